import SwitchboardCore

/// `task.*`, FreeNAS 10's task queue, mapped onto jobs: a task is a job method's job, so `task.submit` and a
/// direct call make the same job (visible in `core.get_jobs`), with the same rights, limits, locks and log.
/// Each method sees only the jobs `core.get_jobs` shows the caller.
enum TaskMethods {
    static let taskSchema: JSON = [
        "type": "object",
        "properties": [
            "id": ["type": "integer"], "name": ["type": "string"], "args": ["type": "array"],
            "state": ["type": "string", "enum": ["WAITING", "EXECUTING", "FINISHED", "FAILED", "ABORTED"]],
            "progress": ["type": "object"], "error": ["type": ["object", "null"]],
        ],
    ]

    static func register(in context: PluginContext) throws {
        let jobs = context.jobs
        let id = Parameter("id", schema: ["type": "integer"])
        try context.register(MethodDescriptor(
            "task.submit", description: "Starts a task (a job method, see discovery.get_tasks) with its arguments; returns the task id, which is its job id.",
            params: [Parameter("name", schema: ["type": "string", "minLength": 1]), Parameter("args", schema: ["type": "array"], default: [])],
            returns: ["type": "integer"], roles: [Role.authenticated]
        ) { ctx, args in
            // The job method's own roles and schema apply: submitJob goes through the whole pipeline.
            .int(try await ctx.submitJob(args[0].stringValue ?? "", args[1].arrayValue ?? []))
        })

        try context.register(MethodDescriptor(
            "task.status", description: "One task.", params: [id], returns: taskSchema, roles: [Role.authenticated], flags: .readonly
        ) { ctx, args in
            FreeNASTask.from(job: try await jobs.record(args[0].intValue ?? 0, credentials: ctx.credentials).json)
        })

        try context.register(MethodDescriptor(
            "task.wait", description: "Returns when the task has ended.", params: [id], returns: ["type": "null"], roles: [Role.authenticated],
            flags: .readonly
        ) { ctx, args in
            _ = try await jobs.wait(args[0].intValue ?? 0, credentials: ctx.credentials)
            return .null
        })

        try context.register(MethodDescriptor(
            "task.abort", description: "Aborts a task (if its method allows it).", params: [id], returns: ["type": "null"], roles: [Role.authenticated]
        ) { ctx, args in
            try await jobs.abort(args[0].intValue ?? 0, credentials: ctx.credentials)
            return .null
        })

        try context.register(MethodDescriptor(
            "task.query",
            description: "Tasks by FreeNAS 10's query: filters on the task fields, params sort/single/limit/offset/count/select (or order_by/get).",
            params: [Parameter("filter", schema: ["type": ["array", "null"]], default: []),
                     Parameter("params", schema: ["type": ["object", "null"]], default: [:])],
            returns: true, roles: [Role.authenticated], flags: .readonly
        ) { ctx, args in
            let (filters, options) = try QueryArguments.parse([args[0].isNull ? [] : args[0], args[1].isNull ? [:] : FreeNASTask.options(args[1])])
            let all = try await jobs.query(filters: [], options: QueryOptions(), credentials: ctx.credentials)
            let answer = try QueryEngine.run((all.arrayValue ?? []).map(FreeNASTask.from(job:)), filters: filters, options: options)
            // FreeNAS 10's task.query was a generator: a streaming client gets its list in fragments.
            if let fragments = ctx.fragments, case .array(let rows) = answer {
                fragments.offer(QueryStream(rows: rows))
                return .null
            }
            return answer
        })
    }
}
