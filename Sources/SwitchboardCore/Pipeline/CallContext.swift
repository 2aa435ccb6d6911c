import Logging

/// What a method body sees of the call: who calls, over which session, and calling on with the caller's rights.
public struct CallContext: Sendable {
    public let session: Session
    let runtime: Runtime
    public let method: String
    private let baseLogger: Logger
    /// The client's id for this request (JSON-RPC `id`), `null` when the dialect has none; kept in a job's `message_ids`.
    public let messageID: JSON
    /// A job method answers its job id at once, whatever the session's `legacy_jobs` (`submitJob`).
    let returnsJobID: Bool
    /// Set when the client takes this call's answer in fragments: a query method may `offer` a stream to it.
    public let fragments: FragmentedAnswer?
    /// The upload and download this call carries, for a job method that takes them (`JobOptions.pipes`).
    public let pipes: JobPipes?

    public init(session: Session, runtime: Runtime, method: String, logger: Logger, messageID: JSON = .null) {
        self.init(session: session, runtime: runtime, method: method, logger: logger, messageID: messageID, returnsJobID: false, fragments: nil, pipes: nil)
    }

    init(session: Session, runtime: Runtime, method: String, logger: Logger, messageID: JSON, returnsJobID: Bool, fragments: FragmentedAnswer?,
         pipes: JobPipes?) {
        self.session = session
        self.runtime = runtime
        self.method = method
        self.baseLogger = logger
        self.messageID = messageID
        self.returnsJobID = returnsJobID
        self.fragments = fragments
        self.pipes = pipes
    }

    /// A logger whose lines name this call's session and method. Made when asked (a method that logs), not for
    /// every call.
    public var logger: Logger {
        var logger = baseLogger
        logger[metadataKey: "session"] = .string(session.id)
        logger[metadataKey: "method"] = .string(method)
        return logger
    }

    public var credentials: Credentials? { session.credentials }

    /// Calls another method with this session's credentials, through the whole pipeline.
    public func call(_ method: String, _ params: [JSON] = []) async throws -> JSON {
        try await runtime.call(method, params, session: session)
    }

    /// Starts a job method with this session's credentials, through the whole pipeline, and returns its job id
    /// without waiting for it (FreeNAS 10's `task.submit`), whatever the session's `legacy_jobs`.
    /// - Throws: EINVAL when `method` is not a job method.
    public func submitJob(_ method: String, _ params: [JSON] = []) async throws -> Int64 {
        guard let descriptor = runtime.registry.method(method), descriptor.flags.contains(.job) else {
            throw CallError(Errno.EINVAL, "\(method) is not a task: only job methods can be submitted (see discovery.get_tasks)")
        }
        let answer = try await runtime.call(method, params, session: session, returningJobID: true, fragments: nil, pipes: nil)
        guard let id = answer.intValue else { throw CallError.internalError("\(method) answered no job id") }
        return id
    }

    /// Calls another method as the daemon itself (full rights), for plugin-to-plugin use.
    public func callInternal(_ method: String, _ params: [JSON] = []) async throws -> JSON {
        try await runtime.callInternal(method, params)
    }
}
