/// What a job's body receives: its id, the call that started it, and ways to report progress and log.
///
/// ```swift
/// try MethodDescriptor.job("pool.scrub", params: [Parameter("name", schema: ["type": "string"])],
///                          options: .locked("scrub", abortable: true)) { job, args in
///     for step in 1...10 {
///         try Task.checkCancellation()          // abort arrives as cancellation
///         await job.setProgress(step * 10, "scrubbing")
///         await job.log("step \(step) done")
///     }
///     return true
/// }
/// ```
public final class JobContext: Sendable {
    public let id: Int64
    /// The call that submitted the job: its session (credentials) and runtime.
    public let call: CallContext
    let manager: JobManager

    init(id: Int64, call: CallContext, manager: JobManager) {
        self.id = id
        self.call = call
        self.manager = manager
    }

    /// The upload this job reads, file by file, when its method takes one (`JobOptions.pipes` `.input`).
    public var input: JobInput? { call.pipes?.input }

    /// Where this job writes its download, when its method makes one (`JobOptions.pipes` `.output`):
    /// `write` waits while the client is behind, and throws EPIPE once it has gone.
    public var output: JobPipe? { call.pipes?.output }

    /// In a cluster, the fencing token of the lease on the job's lock (nil without a lock, or on one node):
    /// pass it to what the job writes to, so a writer whose lease has expired and gone to another is refused.
    public var fencingToken: Int64? { manager.fencingToken(id) }

    /// Reports progress; subscribers see a `changed` event only when something actually changed.
    public func setProgress(_ percent: Int?, _ description: String? = nil, extra: JSON = .null) async {
        manager.setProgress(id, percent: percent.map { Int64(max(0, min(100, $0))) }, description: description, extra: extra)
    }

    /// Appends a line to the job's log file.
    public func log(_ line: String) async {
        manager.appendLog(id, Array((line.hasSuffix("\n") ? line : line + "\n").utf8))
    }

    /// Appends raw bytes (a child process's output) to the job's log file.
    public func log(bytes: [UInt8]) async {
        manager.appendLog(id, bytes)
    }

    /// `setProgress` for a caller that cannot await (an external plugin's messages, handled in arrival order
    /// on an event loop): applied before it returns, so reports keep their order.
    public func reportProgress(_ percent: Int?, _ description: String? = nil, extra: JSON = .null) {
        manager.setProgress(id, percent: percent.map { Int64(max(0, min(100, $0))) }, description: description, extra: extra)
    }

    /// `log` for a caller that cannot await; lines keep their order.
    public func appendLog(_ line: String) {
        manager.appendLog(id, Array((line.hasSuffix("\n") ? line : line + "\n").utf8))
    }

    /// Calls a method with the submitter's credentials.
    public func callMethod(_ method: String, _ params: [JSON] = []) async throws -> JSON {
        try await call.call(method, params)
    }
}

/// The body of a job method.
public typealias JobHandler = @Sendable (JobContext, [JSON]) async throws -> JSON

extension MethodDescriptor {
    /// Declares a job method: the call returns the job id at once (legacy jobs), or with
    /// `core.set_options({"legacy_jobs": false})` its reply waits for the job and carries its result or error.
    public static func job(
        _ name: String, description: String = "", params: [Parameter] = [], returns: JSON = true,
        roles: [String] = [], flags: MethodFlags = [], options: JobOptions = JobOptions(), body: @escaping JobHandler
    ) throws -> MethodDescriptor {
        var descriptor = try MethodDescriptor(name, description: description, params: params, returns: returns, roles: roles,
                                              flags: flags.union(.job)) { context, args in
            try JobPipeKinds.check(offered: context.pipes?.kinds ?? [], taken: options.pipes, method: name)
            let jobs = context.runtime.jobs
            let legacy = context.session.options.legacyJobs || context.returnsJobID
            let run = context.pipes.map { $0.ending(body) } ?? body
            let id = try await jobs.submit(method: name, arguments: args, options: options, context: context, idReturned: legacy, body: run)
            if legacy { return .int(id) }
            let record = try await jobs.wait(id)
            if let error = record.callError { throw error }
            return record.result
        }
        descriptor.abortable = options.abortable
        descriptor.pipes = options.pipes
        return descriptor
    }
}
