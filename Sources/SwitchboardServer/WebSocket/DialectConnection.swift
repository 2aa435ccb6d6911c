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
    let maxMessageSize: Int

    /// Runs `body` with the connection's session and queue, and tears both down when it returns.
    func serve(dialect: String, context: WebSocketRouterContext<SwitchboardRequestContext>,
               outbox: (OutboundQueue) -> any EventOutbox,
               _ body: (Session, OutboundQueue) async throws -> Void) async throws {
        let requestContext = context.requestContext
        defer { requestContext.releaseWebSocketHandler() }
        guard let channel = requestContext.channel else { return }
        let origin = await PeerCredentials.origin(of: channel)
        let sessionID = Session.makeID()
        let logger = runtime.logger
        let queue = try await OutboundFrameWriter.install(on: channel, limits: outboundLimits, logger: logger, sessionID: sessionID)
        let session = Session(id: sessionID, dialect: dialect, origin: origin, limits: limits,
                              credentials: PeerCredentials.trustedCredentials(for: origin), outbox: outbox(queue))
        logger.debug("session opened", metadata: ["session": .string(sessionID), "dialect": .string(dialect), "origin": .string("\(origin)")])
        defer {
            runtime.events.unsubscribeAll(session: session)
            session.limiter.close()
            queue.finish()
            logger.debug("session closed", metadata: ["session": .string(sessionID)])
        }
        try await body(session, queue)
    }

    /// Each message of the connection decoded straight from its bytes, in order, until the client leaves;
    /// a connection closed for overflow reads nothing more, since its replies could not be delivered.
    func forEachMessage<Decoded>(_ inbound: WebSocketInboundStream, queue: OutboundQueue,
                                 decode: (UnsafeRawBufferPointer) -> Decoded,
                                 _ handle: (Decoded) async throws -> Void) async throws {
        for try await message in inbound.messages(maxSize: maxMessageSize) {
            if queue.ending == .overflowed { break }
            let decoded: Decoded
            switch message {
            case .text(var text):
                decoded = text.withUTF8 { decode(UnsafeRawBufferPointer($0)) }
            case .binary(let buffer):
                decoded = buffer.withUnsafeReadableBytes { decode($0) }
            }
            try await handle(decoded)
        }
    }
}
