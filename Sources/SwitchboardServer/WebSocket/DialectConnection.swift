import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import SwitchboardCore

/// What every WebSocket dialect does around its own frames: learn the peer, install the batched writer,
/// open the session (local-socket trust included), read messages as bytes within the size limit, and on
/// the way out drop the session's subscriptions, close its limiter and end its queue. A dialect only
/// decodes, dispatches and encodes.
struct DialectConnection: Sendable {
    let runtime: Runtime
    let limits: CallLimiter.Limits
    let outboundLimits: OutboundQueue.Limits
    /// The hard cap on a message (`dispatcher.max-message-size`): larger ones are never read whole.
    let maxMessageSize: Int
    /// The size limits below the cap: before and after authentication (a method may declare more).
    var unauthenticatedMessageSize = 8 << 10
    var authenticatedMessageSize = 64 << 10
    /// The TCP listener is TLS-only (`dispatcher.tls`).
    var encryptedTCP = false

    /// Runs `body` with the connection's session and queue, and tears both down when it returns.
    func serve(dialect: String, context: WebSocketRouterContext<SwitchboardRequestContext>,
               outbox: (OutboundQueue) -> any EventOutbox,
               _ body: (Session, OutboundQueue) async throws -> Void) async throws {
        let requestContext = context.requestContext
        defer { requestContext.releaseWebSocketHandler() }
        guard let channel = requestContext.channel else { return }
        let sessionID = Session.makeID()
        let logger = runtime.logger
        let queue = try await OutboundFrameWriter.install(on: channel, limits: outboundLimits, counters: runtime.events.counters,
                                                           logger: logger, sessionID: sessionID)
        let session = await PeerCredentials.session(on: channel, id: sessionID, dialect: dialect, limits: limits,
                                                    encryptedTCP: encryptedTCP, outbox: outbox(queue))
        let origin = session.origin
        runtime.sessions.open(session) { code, reason in queue.close(code: code, reason: reason) }
        // The guard reads frame headers before they are buffered; its limit follows this session's login.
        channel.triggerUserOutboundEvent(ConnectionGuardEvent.session(session), promise: nil)
        logger.debug("session opened", metadata: ["session": .string(sessionID), "dialect": .string(dialect), "origin": .string("\(origin)")])
        defer {
            runtime.sessions.closed(session)
            runtime.events.unsubscribeAll(session: session)
            runtime.rooms.leaveAll(session)
            session.limiter.close()
            queue.finish()
            logger.debug("session closed", metadata: ["session": .string(sessionID)])
        }
        // Before the first message is read, so that the client's first call already runs as the user a
        // session manager found (a web application's session cookie).
        await runtime.authenticate(session, upgrade: Self.upgradeRequest(context.request, session: session))
        try await body(session, queue)
    }

    /// The upgrade request as Core's session managers read it.
    static func upgradeRequest(_ request: Request, session: Session) -> UpgradeRequest {
        UpgradeRequest(path: request.uri.path, query: request.uri.query ?? "",
                       headers: request.headers.map { (name: $0.name.canonicalName, value: $0.value) },
                       origin: session.origin, encrypted: session.encrypted, dialect: session.dialect)
    }

    /// Each message of the connection decoded straight from its bytes, in order, until the client leaves;
    /// a connection closed for overflow reads nothing more, since its replies could not be delivered.
    ///
    /// A message over the session's size limit closes the connection: 1007 before authentication (an
    /// unauthenticated peer gets 8 KiB, enough to log in), 1009 after, unless the method it calls (`method`
    /// reads its name) declares a larger `maxMessageSize`.
    func forEachMessage<Decoded>(_ inbound: WebSocketInboundStream, session: Session, queue: OutboundQueue,
                                 decode: (UnsafeRawBufferPointer) -> Decoded, method: (Decoded) -> String?,
                                 _ handle: (Decoded) async throws -> Void) async throws {
        for try await message in inbound.messages(maxSize: maxMessageSize) {
            if let ending = queue.ending, ending != .finished { break }
            session.touch()
            let decoded: Decoded
            let size: Int
            switch message {
            case .text(var text):
                size = text.utf8.count
                decoded = text.withUTF8 { decode(UnsafeRawBufferPointer($0)) }
            case .binary(let buffer):
                size = buffer.readableBytes
                decoded = buffer.withUnsafeReadableBytes { decode($0) }
            }
            if size > unauthenticatedMessageSize, let refusal = refusal(size: size, session: session, method: { method(decoded) }) {
                queue.close(code: refusal.code, reason: refusal.reason)
                break
            }
            try await handle(decoded)
        }
    }

    /// Why a message of `size` bytes is refused, or nil when it is within the session's limit.
    func refusal(size: Int, session: Session, method: () -> String?) -> (code: UInt16, reason: String)? {
        guard session.isAuthenticated else {
            return (1007, "message of \(size) bytes exceeds \(unauthenticatedMessageSize) bytes before authentication")
        }
        if size <= authenticatedMessageSize { return nil }
        if let name = method(), let declared = runtime.registry.method(name)?.maxMessageSize, size <= declared { return nil }
        return (1009, "message of \(size) bytes exceeds \(authenticatedMessageSize) bytes")
    }
}
