import HummingbirdWebSocket
import Logging
import NIOCore
import SwitchboardCore
import SwitchboardWire

/// Serves one `/api/current` WebSocket: decodes frames, runs calls concurrently within the session's limits,
/// and writes replies through one writer task so frames never interleave.
struct JSONRPCWebSocketHandler: Sendable {
    let runtime: Runtime
    let limits: CallLimiter.Limits
    let maxMessageSize: Int

    func handle(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, context: WebSocketRouterContext<SwitchboardRequestContext>) async throws {
        let origin = await PeerCredentials.origin(of: context.requestContext.channel)
        let session = Session(dialect: "jsonrpc", origin: origin, limits: limits, credentials: PeerCredentials.trustedCredentials(for: origin))
        let logger = runtime.logger
        logger.debug("session opened", metadata: ["session": .string(session.id), "origin": .string("\(origin)")])
        let (replies, sink) = AsyncStream<[UInt8]>.makeStream()
        let runtime = self.runtime

        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                for await frame in replies {
                    try await outbound.write(.text(String(decoding: frame, as: UTF8.self)))
                }
            }
            defer {
                session.limiter.close()
                sink.finish()
                logger.debug("session closed", metadata: ["session": .string(session.id)])
            }
            for try await message in inbound.messages(maxSize: maxMessageSize) {
                let decoded: JSONRPCInbound
                switch message {
                case .text(var text):
                    decoded = text.withUTF8 { JSONRPCCodec.decode(UnsafeRawBufferPointer($0)) }
                case .binary(let buffer):
                    decoded = buffer.withUnsafeReadableBytes { JSONRPCCodec.decode($0) }
                }
                switch decoded {
                case .invalid(let id, let code, let message, let reason):
                    sink.yield(JSONRPCCodec.encodeInvalid(id: id, code: code, message: message, reason: reason))
                case .notification(let method, let params):
                    group.addTask {
                        _ = await SessionCalls.perform(runtime, session: session, method: method, params: params)
                    }
                case .call(let id, let method, let params):
                    group.addTask {
                        let result = await SessionCalls.perform(runtime, session: session, method: method, params: params)
                        switch result {
                        case .success(let value):
                            sink.yield(JSONRPCCodec.encodeResult(id: id, result: value))
                        case .failure(let error):
                            sink.yield(JSONRPCCodec.encodeError(id: id, error: error, pyExceptions: session.options.pyExceptions))
                        }
                    }
                }
            }
        }
    }
}
