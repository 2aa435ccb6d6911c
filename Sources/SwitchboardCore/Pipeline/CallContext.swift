import Logging

/// What a method body sees of the call: who calls, over which session, and calling on with the caller's rights.
public struct CallContext: Sendable {
    public let session: Session
    let runtime: Runtime
    public let method: String
    private let baseLogger: Logger
    /// The client's id for this request (JSON-RPC `id`), `null` when the dialect has none; kept in a job's `message_ids`.
    public let messageID: JSON

    public init(session: Session, runtime: Runtime, method: String, logger: Logger, messageID: JSON = .null) {
        self.session = session
        self.runtime = runtime
        self.method = method
        self.baseLogger = logger
        self.messageID = messageID
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

    /// Calls another method as the daemon itself (full rights), for plugin-to-plugin use.
    public func callInternal(_ method: String, _ params: [JSON] = []) async throws -> JSON {
        try await runtime.callInternal(method, params)
    }
}
