import Foundation
import SwitchboardCore

/// `core.get_jobs`, `core.job_wait`, `core.job_abort`, `core.job_log`, `core.noop_job` and `core.bulk`.
enum JobMethods {
    static func register(in context: PluginContext) throws {
        try context.register(MethodDescriptor(
            MethodName.getJobs, description: "Jobs, with the query language (e.g. [[\"id\", \"=\", 12]]). Without FULL_ADMIN only your own.",
            params: QueryArguments.parameters,
            returns: true, roles: [Role.authenticated], flags: .readonly
        ) { ctx, args in
            let (filters, options) = try QueryArguments.parse(args)
            if let fragments = ctx.fragments, let stream = try await context.jobs.stream(filters: filters, options: options, credentials: ctx.credentials) {
                fragments.offer(stream)
                return .null
            }
            return try await context.jobs.query(filters: filters, options: options, credentials: ctx.credentials)
        })

        try context.register(MethodDescriptor(
            "core.job_wait", description: "Waits for a job to end; returns its result or fails with its error.",
            params: [Parameter("id", schema: ["type": "integer"])], returns: true, roles: [Role.authenticated], flags: .readonly
        ) { ctx, args in
            let record = try await context.jobs.wait(args[0].intValue ?? 0, credentials: ctx.credentials)
            if let error = record.callError { throw error }
            return record.result
        })

        try context.register(MethodDescriptor(
            MethodName.jobAbort,
            description: "Aborts a job (and the jobs it submitted): a waiting one at once, a running abortable one by cancellation. "
                + "Returns whether the abort took effect (the job then ends ABORTED); false when it had already ended.",
            params: [Parameter("id", schema: ["type": "integer"])], returns: ["type": "boolean"], roles: [Role.authenticated]
        ) { ctx, args in
            .bool(try await context.jobs.abort(args[0].intValue ?? 0, credentials: ctx.credentials))
        })

        try context.register(MethodDescriptor(
            MethodName.jobLog, description: "A job's log (from byte offset, at most limit bytes); empty when it has none.",
            params: [Parameter("id", schema: ["type": "integer"]),
                     Parameter("offset", schema: ["type": "integer", "minimum": 0], default: 0),
                     Parameter("limit", schema: ["type": "integer", "minimum": 1, "maximum": 16_777_216], default: 1_048_576)],
            returns: ["type": "string"], roles: [Role.authenticated], flags: .readonly
        ) { ctx, args in
            let record = try await context.jobs.record(args[0].intValue ?? 0, credentials: ctx.credentials)
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
                    let isJob = context.registry.method(method)?.flags.contains(.job) == true
                    let value = try await job.call.call(method, params.arrayValue ?? [])
                    if isJob, let subID = value.intValue, job.call.session.options.legacyJobs {
                        entry["job_id"] = .int(subID)
                        let record = try await context.jobs.wait(subID, credentials: job.call.credentials)
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
    }
}
