import SwitchboardCore

/// `discovery.*` with the shapes of FreeNAS 10's DiscoveryService, read from the live registry with the
/// visibility `core.get_methods` has (private methods only for a session that asked for them), so the two
/// always agree.
enum DiscoveryMethods {
    static func register(in context: PluginContext) throws {
        let registry = context.registry
        try context.register(MethodDescriptor(
            "discovery.get_services", description: "The names of the services (interfaces) that have methods.",
            returns: ["type": "array", "items": ["type": "string"]], roles: [Role.authenticated], flags: .readonly
        ) { ctx, _ in
            JSON(strings: Set(visible(registry, ctx).map(\.namespace)).sorted())
        })

        try context.register(MethodDescriptor(
            "discovery.get_methods",
            description: "The methods of one service: name (without the service), description, params-schema (an array schema), result-schema, private.",
            params: [Parameter("service", schema: ["type": "string"])],
            returns: ["type": "array", "items": ["type": "object"]], roles: [Role.authenticated], flags: .readonly
        ) { ctx, args in
            let service = args[0].stringValue ?? ""
            let methods = visible(registry, ctx).filter { $0.namespace == service }
            guard !methods.isEmpty else { throw CallError(Errno.ENOENT, "Service not found") }
            return .array(methods.map { method in
                [
                    "name": .string(String(method.name.dropFirst(service.count + 1))),
                    "description": .string(method.description),
                    "private": .bool(method.flags.contains(.private)),
                    "params-schema": ["type": "array", "items": .array(method.params.map(\.schema))],
                    "result-schema": method.returns,
                ]
            })
        })

        try context.register(MethodDescriptor(
            "discovery.get_tasks",
            description: "Every task (job method) by name: description, schema (its parameters' schemas), abortable, private, metadata.",
            returns: ["type": "object"], roles: [Role.authenticated], flags: .readonly
        ) { ctx, _ in
            var tasks = JSONObject()
            for method in visible(registry, ctx) where method.flags.contains(.job) {
                tasks[method.name] = [
                    "description": .string(method.description), "schema": .array(method.params.map(\.schema)),
                    "abortable": .bool(method.abortable), "private": .bool(method.flags.contains(.private)), "metadata": .null,
                ]
            }
            return .object(tasks)
        })

        try context.register(MethodDescriptor(
            "discovery.get_event_types",
            description: "Every event type the caller may receive, by name: refcount (subscriptions now), event_schema.",
            returns: ["type": "object"], roles: [Role.authenticated], flags: .readonly
        ) { ctx, _ in
            var types = JSONObject()
            for type in registry.eventTypes where ctx.credentials?.allows(anyOf: type.roles) == true {
                types[type.name] = ["refcount": .int(Int64(registry.subscriberCount(type.name))), "event_schema": type.schema]
            }
            return .object(types)
        })

        try context.register(MethodDescriptor(
            "discovery.get_schema", description: "The named schema definitions, as one JSON Schema document (under definitions, and under components.schemas where method schemas' $refs point).",
            returns: ["type": "object"], roles: [Role.authenticated], flags: .readonly
        ) { _, _ in
            let definitions = registry.schemaDocument
            // `definitions` where FreeNAS 10 kept them; `components.schemas` too, where method schemas' `$ref`s
            // point, so that they resolve inside this document.
            return [
                "$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                "definitions": definitions, "components": ["schemas": definitions],
            ]
        })
    }

    /// The methods `core.get_methods` would list to this caller.
    static func visible(_ registry: RegistryView, _ ctx: CallContext) -> [MethodDescriptor] {
        let showPrivate = ctx.session.options.privateMethods
        return registry.methods.filter { !$0.flags.contains(.private) || showPrivate }.sorted { $0.name < $1.name }
    }
}
