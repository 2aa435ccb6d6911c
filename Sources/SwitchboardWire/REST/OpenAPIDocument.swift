import SwitchboardCore

/// The OpenAPI 3.1 document of `/api/v2.0`, generated from the registry through `RESTRoutes`, so it lists
/// exactly the endpoints the daemon answers. Parameter and result schemas are the methods' own JSON Schemas
/// (OpenAPI 3.1 uses JSON Schema 2020-12, the dialect plugins write).
public enum OpenAPIDocument {
    public static func make(_ registry: MethodRegistry, version: String) -> JSON {
        var paths: JSONObject = [:]
        for route in RESTRoutes.routes(registry) {
            var item = paths[route.path]?.objectValue ?? [:]
            if route.path.contains("{id}"), item["parameters"] == nil {
                item["parameters"] = [[
                    "name": "id", "in": "path", "required": true,
                    "description": "The entry's id.", "schema": ["type": ["integer", "string"]],
                ]]
            }
            item[route.httpMethod.lowercased()] = operation(route)
            paths[route.path] = .object(item)
        }
        let services = registry.services.map { service -> JSON in
            ["name": .string(service.name), "description": .string(service.description.isEmpty ? "\(service.kind.rawValue) \(service.name)" : service.description)]
        }
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "Switchboard",
                "version": .string(version),
                "description": "The REST mapping of every public method (middlewared v2.0 conventions). The same methods are served over WebSocket in the JSON-RPC, DDP and envelope dialects.",
            ],
            "servers": [["url": "/api/v2.0"]],
            "tags": .array(services),
            "security": [["basic": []], ["bearer": []]],
            "paths": .object(paths),
            "components": [
                "securitySchemes": [
                    "basic": ["type": "http", "scheme": "basic"],
                    "bearer": ["type": "http", "scheme": "bearer",
                               "description": "A token from auth.generate_token, or an API key (<id>-<secret>) from api_key.create: either is sent as `Authorization: Bearer <value>` (a key only over TLS or loopback)."],
                ],
                // The named definitions plugins register: method schemas' `#/components/schemas/<name>` resolve here.
                "schemas": .object(Self.schemas(registry.definitions)),
                "responses": [
                    "Error": [
                        "description": "The call failed: errno, its name, the reason, and for validation errors the [attribute, message, errno] triples in extra.",
                        "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]],
                    ],
                ],
            ],
        ]
    }

    /// The named definitions plugins register, with the error shape every failure has.
    static func schemas(_ definitions: [String: JSON]) -> JSONObject {
        var schemas: JSONObject = ["Error": errorSchema]
        for (name, schema) in definitions.sorted(by: { $0.key < $1.key }) where name != "Error" { schemas[name] = schema }
        return schemas
    }

    static func operation(_ route: RESTRoute) -> JSON {
        let method = route.method
        var operation: JSONObject = [
            "operationId": .string(method.name),
            "summary": .string(method.name),
            "description": .string(describe(method)),
            "tags": [.string(method.namespace)],
            "responses": [
                "200": [
                    "description": method.flags.contains(.job) ? "The job id; follow it with core.get_jobs." : "The result.",
                    "content": ["application/json": ["schema": method.flags.contains(.job) ? ["type": "integer"] : method.returns]],
                ],
                "default": ["$ref": "#/components/responses/Error"],
            ],
        ]
        if method.flags.contains(.noAuthRequired) { operation["security"] = [[:]] }
        // GET and DELETE carry no body, so an item route there takes only the id.
        let takesBody = route.httpMethod == "POST" || route.httpMethod == "PUT"
        switch route.arguments {
        case .none:
            break
        case .item where !takesBody:
            break
        case .query:
            operation["parameters"] = queryParameters
        case .body, .item:
            let params = route.arguments == .item ? Array(method.params.dropFirst()) : method.params
            guard !params.isEmpty else { break }
            let schema: JSON
            if params.count == 1 {
                schema = params[0].schema
            } else {
                schema = [
                    "type": "array",
                    "prefixItems": .array(params.map { parameter in
                        var item = parameter.schema.objectValue ?? [:]
                        if item["title"] == nil { item["title"] = .string(parameter.name) }
                        return .object(item)
                    }),
                    "minItems": .int(Int64(params.filter(\.required).count)),
                    "maxItems": .int(Int64(params.count)),
                ]
            }
            operation["requestBody"] = [
                "required": .bool(params.contains(where: \.required)),
                "content": ["application/json": ["schema": schema]],
            ]
        }
        return .object(operation)
    }

    static func describe(_ method: MethodDescriptor) -> String {
        var text = method.description
        if !method.flags.contains(.noAuthRequired) { text += "\n\nRoles: " + Role.effective(method.roles).joined(separator: ", ") + "." }
        if method.flags.contains(.job) { text += "\n\nRuns as a job." }
        return text
    }

    static let queryParameters: JSON = [
        ["name": "limit", "in": "query", "schema": ["type": "integer", "minimum": 0], "description": "At most this many entries."],
        ["name": "offset", "in": "query", "schema": ["type": "integer", "minimum": 0], "description": "Skip this many entries."],
        ["name": "count", "in": "query", "schema": ["type": "boolean"], "description": "Return the number of matches instead."],
        ["name": "sort", "in": "query", "schema": ["type": "string"], "description": "Comma-separated fields; -field sorts descending."],
    ]

    static let errorSchema: JSON = [
        "type": "object",
        "properties": [
            "errno": ["type": "integer"], "errname": ["type": "string"], "reason": ["type": "string"],
            "extra": ["description": "For validation errors: a list of [attribute, message, errno]."],
        ],
        "required": ["errno", "errname", "reason"],
    ]
}
