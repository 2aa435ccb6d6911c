import SwitchboardCore

/// The OpenRPC 1.3 description of the JSON-RPC dialect, generated from the live registry on every request, so it
/// lists exactly the methods a client can call now and changes as plugins load and unload. Served by
/// `rpc.discover` (the name OpenRPC reserves) and `GET /api/openrpc.json`; the debug UI builds its pages from it.
///
/// What OpenRPC has no field for goes into `x-` extensions, which the spec allows on these objects: a method's
/// roles and flags (`x-roles`, `x-job`, `x-readonly`, `x-no-auth-required`, `x-private`), and the event types at
/// the top (`x-events`). Schemas are the methods' own draft 2020-12 JSON Schemas; their
/// `#/components/schemas/<name>` references resolve in `components.schemas`, as they do in the OpenAPI document.
public enum OpenRPCDocument {
    /// The OpenRPC version the document follows.
    public static let version = "1.3.2"

    /// - Parameter includePrivate: list private methods too (a session with `private_methods` set, as
    ///   `core.get_methods` does for it).
    public static func make(_ registry: RegistryView, version daemonVersion: String, includePrivate: Bool = false) -> JSON {
        let services = Dictionary(registry.services.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let methods = registry.methods
            .filter { includePrivate || !$0.flags.contains(.private) }
            .sorted { $0.name < $1.name }
            .map { method(for: $0, service: services[$0.namespace]) }
        let eventTypes = registry.eventTypes.sorted { $0.name < $1.name }.map { type -> JSON in
            [
                "name": .string(type.name), "description": .string(type.description),
                "roles": JSON(strings: type.roles), "scope": .string(type.scope == .cluster ? "cluster" : "node"),
                "schema": type.schema,
            ]
        }
        return [
            "openrpc": .string(version),
            "info": [
                "title": "Switchboard",
                "version": .string(daemonVersion),
                "description": .string(about),
            ],
            "servers": [["name": "JSON-RPC 2.0 over WebSocket", "url": "/api/current"]],
            "methods": .array(methods),
            "components": [
                "schemas": .object(OpenAPIDocument.schemas(registry.schemaDefinitions)),
                "errors": .object(errors),
            ],
            "x-events": .array(eventTypes),
        ]
    }

    static let about = "Every method the daemon offers now, as JSON-RPC 2.0 over WebSocket (/api/current). Parameters are "
        + "positional. The same methods are served by the DDP and envelope dialects and over REST (/api/v2.0)."

    static func method(for method: MethodDescriptor, service: ServiceDescriptor?) -> JSON {
        var tag: JSONObject = ["name": .string(method.namespace)]
        if let service, !service.description.isEmpty { tag["description"] = .string(service.description) }
        let params = method.params.map { parameter -> JSON in
            var schema = parameter.schema
            if let value = parameter.defaultValue, var object = schema.objectValue {
                object["default"] = value
                schema = .object(object)
            }
            return ["name": .string(parameter.name), "required": .bool(parameter.required), "schema": schema]
        }
        var errorRefs: [JSON] = []
        if !method.params.isEmpty { errorRefs.append(["$ref": "#/components/errors/InvalidParams"]) }
        errorRefs += [["$ref": "#/components/errors/CallError"], ["$ref": "#/components/errors/TooManyConcurrentCalls"],
                      ["$ref": "#/components/errors/InternalError"]]
        var object: JSONObject = [
            "name": .string(method.name),
            "summary": .string(summary(of: method.description)),
            "description": .string(method.description),
            "tags": [.object(tag)],
            "paramStructure": "by-position",
            "params": .array(params),
            "result": ["name": "result", "schema": method.returns],
            "errors": .array(errorRefs),
            "x-roles": JSON(strings: Role.effective(method.roles)),
            "x-job": .bool(method.flags.contains(.job)),
            "x-readonly": .bool(method.flags.contains(.readonly)),
            "x-no-auth-required": .bool(method.flags.contains(.noAuthRequired)),
        ]
        if method.flags.contains(.private) { object["x-private"] = true }
        return .object(object)
    }

    /// The first sentence: OpenRPC tools show the summary in lists.
    static func summary(of description: String) -> String {
        guard let end = description.range(of: ". ") else { return description }
        return String(description[..<end.lowerBound]) + "."
    }

    /// The JSON-RPC errors every call can meet, with the codes and messages `JSONRPCCodec` sends. The errno,
    /// its name, the reason and (for invalid params) the attribute paths are in the error's `data`.
    static let errors: JSONObject = [
        "InvalidParams": ["code": .int(Int64(JSONRPCCodec.invalidParams)), "message": "Invalid params",
                          "data": "data.extra lists [attribute, message, errno] for each argument that failed validation"],
        "CallError": ["code": .int(Int64(JSONRPCCodec.callError)), "message": "Method call error",
                      "data": "data.error is the errno, data.errname its name, data.reason the explanation"],
        "TooManyConcurrentCalls": ["code": .int(Int64(JSONRPCCodec.tooManyConcurrentCalls)), "message": "Too many concurrent calls",
                                   "data": "the session already has dispatcher.max-queued-calls calls waiting"],
        "InternalError": ["code": .int(Int64(JSONRPCCodec.internalError)), "message": "Internal error"],
    ]
}
