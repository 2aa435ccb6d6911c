import Foundation
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
            "core.get_roles",
            description: "Every role a user or API key can be granted: the built-in ones and each role a method or event type admits.",
            returns: ["type": "array", "items": ["type": "string"]], roles: [Role.readonlyAdmin], flags: .readonly
        ) { _, _ in
            JSON(strings: context.knownRoles.sorted())
        })

        try context.register(MethodDescriptor(
            MethodName.subscribe,
            description: "Subscribes this session to an event name, `*` or `prefix.*`; returns the subscription id. Events arrive as collection_update notifications.",
            params: [Parameter("name", schema: ["type": "string", "minLength": 1, "maxLength": 1024])],
            returns: ["type": "string"], roles: [Role.authenticated], flags: .readonly
        ) { ctx, args in
            .string(try runtime.events.subscribe(session: ctx.session, name: args[0].stringValue ?? ""))
        })

        try context.register(MethodDescriptor(
            MethodName.unsubscribe, description: "Ends a subscription of this session.",
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

        context.events.register(EventTypeDescriptor(
            JobManager.eventName, description: "Jobs: added when submitted, changed on progress and when they end. A session sees its own jobs; FULL_ADMIN sees all.",
            roles: [Role.authenticated]))

        context.events.register(EventTypeDescriptor(
            Alerts.eventName,
            description: "Warnings for the operator, also logged: e.g. retention dropping audit records or jobs younger than the "
                + "configured age because a count limit was reached. Fields: kind, message, time_ms and details.",
            roles: [Role.readonlyAdmin]))

        try context.register(MethodDescriptor(
            "core.get_jobs", description: "Jobs, with the query language (e.g. [[\"id\", \"=\", 12]]). Without FULL_ADMIN only your own.",
            params: QueryArguments.parameters,
            returns: true, roles: [Role.authenticated], flags: .readonly
        ) { ctx, args in
            let (filters, options) = try QueryArguments.parse(args)
            return try await runtime.jobs.query(filters: filters, options: options, credentials: ctx.credentials)
        })

        try context.register(MethodDescriptor(
            "core.job_wait", description: "Waits for a job to end; returns its result or fails with its error.",
            params: [Parameter("id", schema: ["type": "integer"])], returns: true, roles: [Role.authenticated], flags: .readonly
        ) { ctx, args in
            let record = try await runtime.jobs.wait(args[0].intValue ?? 0, credentials: ctx.credentials)
            if let error = record.callError { throw error }
            return record.result
        })

        try context.register(MethodDescriptor(
            "core.job_abort",
            description: "Aborts a job (and the jobs it submitted): a waiting one at once, a running abortable one by cancellation. "
                + "Returns whether the abort took effect (the job then ends ABORTED); false when it had already ended.",
            params: [Parameter("id", schema: ["type": "integer"])], returns: ["type": "boolean"], roles: [Role.authenticated]
        ) { ctx, args in
            .bool(try await runtime.jobs.abort(args[0].intValue ?? 0, credentials: ctx.credentials))
        })

        try context.register(MethodDescriptor(
            "core.job_log", description: "A job's log (from byte offset, at most limit bytes); empty when it has none.",
            params: [Parameter("id", schema: ["type": "integer"]),
                     Parameter("offset", schema: ["type": "integer", "minimum": 0], default: 0),
                     Parameter("limit", schema: ["type": "integer", "minimum": 1, "maximum": 16_777_216], default: 1_048_576)],
            returns: ["type": "string"], roles: [Role.authenticated], flags: .readonly
        ) { ctx, args in
            let record = try await runtime.jobs.record(args[0].intValue ?? 0, credentials: ctx.credentials)
            guard let path = record.logsPath, let handle = FileHandle(forReadingAtPath: path) else { return "" }
            defer { try? handle.close() }
            try? handle.seek(toOffset: UInt64(args[1].intValue ?? 0))
            let data = (try? handle.read(upToCount: Int(args[2].intValue ?? 1_048_576))) ?? Data()
            return .string(String(decoding: data, as: UTF8.self))
        })

        try context.register(MethodDescriptor.job(
            "core.noop_job",
            description: "A job that does nothing and returns true: checks the job pipeline end to end (durable states, events) and lets it be measured.",
            // An administrator's diagnostic: nobody else needs to make jobs that do nothing.
            returns: ["type": "boolean"], roles: [Role.fullAdmin]
        ) { _, _ in true })

        try context.register(MethodDescriptor.job(
            "core.bulk",
            description: "Calls a method once per params list with the caller's rights, as one job; returns [{job_id, result, error}].",
            params: [Parameter("method", schema: ["type": "string", "minLength": 1]),
                     Parameter("params", schema: ["type": "array", "items": ["type": "array"]]),
                     Parameter("description", schema: ["type": ["string", "null"]], default: nil)],
            returns: ["type": "array"], roles: [Role.authenticated],
            options: JobOptions(lock: { args in "bulk:\(args[0].stringValue ?? "")" }, abortable: true,
                                description: { args in args[2].stringValue })
        ) { job, args in
            let method = args[0].stringValue ?? ""
            let calls = args[1].arrayValue ?? []
            var results: [JSON] = []
            for (index, params) in calls.enumerated() {
                try Task.checkCancellation()
                var entry: JSONObject = ["job_id": nil, "result": nil, "error": nil]
                do {
                    let isJob = runtime.registry.method(method)?.flags.contains(.job) == true
                    let value = try await runtime.call(method, params.arrayValue ?? [], session: job.call.session)
                    if isJob, let subID = value.intValue, job.call.session.options.legacyJobs {
                        entry["job_id"] = .int(subID)
                        let record = try await runtime.jobs.wait(subID)
                        if let error = record.callError { throw error }
                        entry["result"] = record.result
                    } else {
                        entry["result"] = value
                    }
                } catch let error as CallError {
                    entry["error"] = .string(error.reason)
                }
                results.append(.object(entry))
                await job.setProgress((index + 1) * 100 / max(calls.count, 1), "\(index + 1) of \(calls.count)")
            }
            return .array(results)
        })

        try context.register(MethodDescriptor(
            "core.set_options",
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
    }
}
