/// Jobs as a plugin uses them: submit a body as a job of a call, and query, wait on and abort jobs, each
/// within what the given credentials may see (`nil`: as the daemon, which sees every job).
public struct PluginJobs: Sendable {
    let manager: JobManager

    /// Runs `body` as a job of the call `context` (its session owns the job); returns the job id.
    public func submit(method: String, arguments: [JSON], options: JobOptions, context: CallContext,
                       body: @escaping JobHandler) async throws(CallError) -> Int64 {
        try await manager.submit(method: method, arguments: arguments, options: options, context: context, body: body)
    }

    /// This node's unfinished jobs by state, and how many finished ones it keeps (`finished`).
    public var stateCounts: [String: Int] { manager.stateCounts }

    public func query(filters: [QueryFilter], options: QueryOptions, credentials: Credentials?) async throws -> JSON {
        try await manager.query(filters: filters, options: options, credentials: credentials)
    }

    /// `query`'s answer as a stream of fragments (see `QueryStream`); nil when it is not a list.
    public func stream(filters: [QueryFilter], options: QueryOptions, credentials: Credentials?) async throws -> QueryStream? {
        try await manager.stream(filters: filters, options: options, credentials: credentials)
    }

    public func record(_ id: Int64, credentials: Credentials?) async throws(CallError) -> JobRecord {
        try await manager.record(id, credentials: credentials)
    }

    public func wait(_ id: Int64, credentials: Credentials?) async throws(CallError) -> JobRecord {
        try await manager.wait(id, credentials: credentials)
    }

    @discardableResult
    public func abort(_ id: Int64, credentials: Credentials?) async throws(CallError) -> Bool {
        try await manager.abort(id, credentials: credentials)
    }
}
