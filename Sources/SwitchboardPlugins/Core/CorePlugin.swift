import SwitchboardCore

/// `core.*`: liveness, introspection of services and methods, and per-session options.
public struct CorePlugin: Plugin {
    public let name = "core"

    public init() {}

    public func setUp(_ context: PluginContext) async throws {
        let runtime = context.runtime
        context.register(ServiceDescriptor(name: "core", description: "The daemon itself: liveness, introspection, session options."))

        try context.register(MethodDescriptor(
            "core.ping", description: "Answers \"pong\"; needs no authentication.",
            returns: ["type": "string", "const": "pong"], flags: [.noAuthRequired, .readonly]
        ) { _, _ in "pong" })

        try context.register(MethodDescriptor(
            "core.get_services", description: "Every service with its kind (service, config, crud).",
            returns: ["type": "object"], roles: [Role.readonlyAdmin], flags: .readonly
        ) { _, _ in
            var services = JSONObject()
            for service in runtime.registry.services {
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
            for method in runtime.registry.methods {
                if method.flags.contains(.private) && !showPrivate { continue }
                if let service, method.namespace != service { continue }
                methods[method.name] = method.introspection
            }
            return .object(methods)
        })

        try context.register(MethodDescriptor(
            "core.subscribe",
            description: "Subscribes this session to an event name, `*` or `prefix.*`; returns the subscription id. Events arrive as collection_update notifications.",
            params: [Parameter("name", schema: ["type": "string", "minLength": 1, "maxLength": 1024])],
            returns: ["type": "string"], roles: [Role.authenticated], flags: .readonly
        ) { ctx, args in
            .string(try runtime.events.subscribe(session: ctx.session, name: args[0].stringValue ?? ""))
        })

        try context.register(MethodDescriptor(
            "core.unsubscribe", description: "Ends a subscription of this session.",
            params: [Parameter("id", schema: ["type": "string"])],
            returns: ["type": "null"], roles: [Role.authenticated], flags: .readonly
        ) { ctx, args in
            guard runtime.events.unsubscribe(session: ctx.session, id: args[0].stringValue ?? "") else {
                throw CallError(Errno.ENOENT, "No subscription \(args[0]) on this session")
            }
            return .null
        })

        try context.register(MethodDescriptor(
            "core.get_events", description: "Every event type with its description and roles.",
            returns: ["type": "object"], roles: [Role.authenticated], flags: .readonly
        ) { ctx, _ in
            var events = JSONObject()
            for type in runtime.events.types where ctx.credentials?.allows(anyOf: type.roles) == true {
                events[type.name] = ["description": .string(type.description), "roles": JSON(strings: type.roles),
                                     "schema": type.schema]
            }
            return .object(events)
        })

        try context.register(MethodDescriptor(
            "core.set_options",
            description: "Sets session options: legacy_jobs (job calls return the id at once), private_methods, py_exceptions. Returns all options.",
            params: [Parameter("options", schema: [
                "type": "object",
                "properties": ["legacy_jobs": ["type": "boolean"], "private_methods": ["type": "boolean"], "py_exceptions": ["type": "boolean"]],
                "additionalProperties": false,
            ])],
            returns: ["type": "object"], flags: [.noAuthRequired]
        ) { ctx, args in
            var options = ctx.session.options
            if let value = args[0]["legacy_jobs"]?.boolValue { options.legacyJobs = value }
            if let value = args[0]["private_methods"]?.boolValue { options.privateMethods = value }
            if let value = args[0]["py_exceptions"]?.boolValue { options.pyExceptions = value }
            ctx.session.options = options
            return options.json
        })
    }
}
