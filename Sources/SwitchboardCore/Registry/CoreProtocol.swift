/// The protocol's own methods and event types, which every dialect relies on: registered by the daemon
/// before any plugin, owned by no plugin, so that disabling or reloading any plugin leaves every dialect
/// able to ping, set session options, subscribe and unsubscribe, and see jobs and alerts.
enum CoreProtocol {
    static func register(in runtime: Runtime) throws {
        runtime.registry.register(ServiceDescriptor(name: "core", description: "The daemon itself: liveness, introspection, session options.",
                                                    plugin: PluginMethods.daemonPlugin))
        let events = runtime.events
        try runtime.registry.register(MethodDescriptor(
            MethodName.ping, description: "Answers \"pong\"; needs no authentication.",
            returns: ["type": "string", "const": "pong"], flags: [.noAuthRequired, .readonly]
        ) { _, _ in "pong" })

        try runtime.registry.register(MethodDescriptor(
            MethodName.subscribe,
            description: "Subscribes this session to an event name, `*` or `prefix.*`, or an event source with an argument "
                + "(`name:{json}`); returns the subscription id. Events arrive as the dialect's event messages.",
            params: [Parameter("name", schema: ["type": "string", "minLength": 1, "maxLength": 1024])],
            returns: ["type": "string"], roles: [Role.authenticated], flags: .readonly
        ) { ctx, args in
            .string(try events.subscribe(session: ctx.session, name: args[0].stringValue ?? ""))
        })

        try runtime.registry.register(MethodDescriptor(
            MethodName.unsubscribe, description: "Ends a subscription of this session.",
            params: [Parameter("id", schema: ["type": "string"])],
            returns: ["type": "null"], roles: [Role.authenticated], flags: .readonly
        ) { ctx, args in
            guard events.unsubscribe(session: ctx.session, id: args[0].stringValue ?? "") else {
                throw CallError(Errno.ENOENT, "No subscription \(args[0]) on this session")
            }
            return .null
        })

        try runtime.registry.register(MethodDescriptor(
            MethodName.setOptions,
            description: "Sets session options: legacy_jobs (job calls return the id at once), private_methods, py_exceptions. Returns all options.",
            params: [Parameter("options", schema: [
                "type": "object",
                "properties": ["legacy_jobs": ["type": "boolean"], "private_methods": ["type": "boolean"], "py_exceptions": ["type": "boolean"]],
                "additionalProperties": false,
            ])],
            returns: ["type": "object"], flags: [.noAuthRequired, .readonly]
        ) { ctx, args in
            var options = ctx.session.options
            if let value = args[0]["legacy_jobs"]?.boolValue { options.legacyJobs = value }
            if let value = args[0]["private_methods"]?.boolValue { options.privateMethods = value }
            if let value = args[0]["py_exceptions"]?.boolValue { options.pyExceptions = value }
            ctx.session.options = options
            return options.json
        })

        events.register(EventTypeDescriptor(
            JobManager.eventName,
            description: "Jobs: added when submitted, changed on progress and when they end. A session sees its own jobs; FULL_ADMIN sees all.",
            roles: [Role.authenticated], scope: .cluster))
        events.register(EventTypeDescriptor(
            Alerts.eventName,
            description: "Warnings for the operator, also logged: e.g. retention dropping audit records or jobs younger than the "
                + "configured age because a count limit was reached. Fields: kind, message, time_ms and details.",
            roles: [Role.readonlyAdmin]))
    }
}
