import HummingbirdWebSocket
import Logging
import NIOCore
import SwitchboardCore
import SwitchboardWire

/// Serves one `/api/current` WebSocket: decodes frames and runs calls concurrently within the session's
/// limits; replies and events go through one bounded queue that `OutboundFrameWriter` writes in batches, so
/// a client that stops reading is closed instead of growing the daemon.
struct JSONRPCWebSocketHandler: Sendable {
    let runtime: Runtime
    let limits: CallLimiter.Limits
    let outboundLimits: OutboundQueue.Limits
    let maxMessageSize: Int

    func handle(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, context: WebSocketRouterContext<SwitchboardRequestContext>) async throws {
        let requestContext = context.requestContext
        defer { requestContext.releaseWebSocketHandler() }
        guard let channel = requestContext.channel else { return }
        let origin = await PeerCredentials.origin(of: channel)
        let sessionID = Session.makeID()
        let logger = runtime.logger
        let queue = try await OutboundFrameWriter.install(on: channel, limits: outboundLimits, logger: logger, sessionID: sessionID)
        let session = Session(id: sessionID, dialect: "jsonrpc", origin: origin, limits: limits,
                              credentials: PeerCredentials.trustedCredentials(for: origin), outbox: JSONRPCOutbox(queue: queue))
        let runtime = self.runtime
        logger.debug("session opened", metadata: ["session": .string(session.id), "origin": .string("\(origin)")])
        defer {
            runtime.events.unsubscribeAll(session: session)
            session.limiter.close()
            queue.finish()
            logger.debug("session closed", metadata: ["session": .string(session.id)])
        }

        try await withThrowingDiscardingTaskGroup { calls in
            for try await message in inbound.messages(maxSize: maxMessageSize) {
                // A connection closed for overflow reads nothing more: its replies could not be delivered.
                if queue.ending == .overflowed { break }
                let decoded: JSONRPCInbound
                switch message {
                case .text(var text):
                    decoded = text.withUTF8 { JSONRPCCodec.decode(UnsafeRawBufferPointer($0)) }
                case .binary(let buffer):
                    decoded = buffer.withUnsafeReadableBytes { JSONRPCCodec.decode($0) }
                }
                switch decoded {
                case .invalid(let id, let code, let message, let reason):
                    queue.enqueue(JSONRPCCodec.encodeInvalid(id: id, code: code, message: message, reason: reason))
                case .notification(let method, let params):
                    calls.addTask {
                        _ = await SessionCalls.perform(runtime, session: session, method: method, params: params)
                    }
                case .call(let id, let method, let params):
                    calls.addTask {
                        let result = await SessionCalls.perform(runtime, session: session, method: method, params: params, messageID: id)
                        switch result {
                        case .success(let value):
                            queue.enqueue(JSONRPCCodec.encodeResult(id: id, result: value))
                        case .failure(let error):
                            queue.enqueue(JSONRPCCodec.encodeError(id: id, error: error, pyExceptions: session.options.pyExceptions))
                        }
                    }
                }
            }
        }
    }
}
