import SwitchboardCore

/// `core.get_services`, `core.get_methods`, `core.get_roles`, `core.get_events` and `core.get_schemas`: what
/// the daemon offers, read from the live registry (so they change as plugins load and unload).
enum IntrospectionMethods {
    static func register(in context: PluginContext) throws {
        try context.register(MethodDescriptor(
            "core.get_services", description: "Every service with its kind (service, config, crud).",
            returns: ["type": "object"], roles: [Role.readonlyAdmin], flags: .readonly
        ) { _, _ in
            var services = JSONObject()
            for service in context.registry.services {
                services[service.name] = ["type": .string(service.kind.rawValue), "description": .string(service.description),
                                          "plugin": .string(service.plugin)]
            }
            return .object(services)
        })

        try context.register(MethodDescriptor(
            "core.get_methods",
            description: "Every method with its description, accepted arguments and result as JSON Schema, roles and flags.",
            params: [Parameter("service", schema: ["type": ["string", "null"]], default: .null)],
            returns: ["type": "object"], roles: [Role.authenticated], flags: .readonly
        ) { ctx, args in
            let showPrivate = ctx.session.options.privateMethods
            let service = args[0].stringValue
            var methods = JSONObject()
            for method in context.registry.methods {
                if method.flags.contains(.private) && !showPrivate { continue }
                if let service, method.namespace != service { continue }
                methods[method.name] = method.introspection
            }
            return .object(methods)
        })

        try context.register(MethodDescriptor(
            "core.get_roles",
            description: "Every role a user or API key can be granted: the built-in ones and each role a method or event type admits.",
            returns: ["type": "array", "items": ["type": "string"]], roles: [Role.readonlyAdmin], flags: .readonly
        ) { _, _ in
            JSON(strings: context.registry.knownRoles.sorted())
        })

        try context.register(MethodDescriptor(
            "core.get_events", description: "Every event type with its description and roles.",
            returns: ["type": "object"], roles: [Role.authenticated], flags: .readonly
        ) { ctx, _ in
            var events = JSONObject()
            for type in context.registry.eventTypes where ctx.credentials?.allows(anyOf: type.roles) == true {
                events[type.name] = ["description": .string(type.description), "roles": JSON(strings: type.roles),
                                     "schema": type.schema]
            }
            return .object(events)
        })

        try context.register(MethodDescriptor(
            "core.get_schemas",
            description: "Every named schema definition, by name: what method schemas refer to as {\"$ref\": \"#/components/schemas/<name>\"}.",
            returns: ["type": "object"], roles: [Role.authenticated], flags: .readonly
        ) { _, _ in
            context.registry.schemaDocument
        })
    }
}
