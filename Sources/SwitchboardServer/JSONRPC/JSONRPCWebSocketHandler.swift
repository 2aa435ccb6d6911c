import HummingbirdWebSocket
import Logging
import NIOCore
#if canImport(Glibc)
import Glibc
#endif
import SwitchboardCore
import SwitchboardWire

/// Serves one `/api/current` WebSocket: decodes frames, runs calls concurrently within the session's limits,
/// and writes replies and events from one bounded queue through one writer task, so frames never interleave
/// and a client that stops reading is closed instead of growing the daemon.
struct JSONRPCWebSocketHandler: Sendable {
    let runtime: Runtime
    let limits: CallLimiter.Limits
    let outboundLimits: OutboundQueue.Limits
    let maxMessageSize: Int

    func handle(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, context: WebSocketRouterContext<SwitchboardRequestContext>) async throws {
        let origin = await PeerCredentials.origin(of: context.requestContext.channel)
        let queue = OutboundQueue(limits: outboundLimits)
        let session = Session(dialect: "jsonrpc", origin: origin, limits: limits,
                              credentials: PeerCredentials.trustedCredentials(for: origin), outbox: JSONRPCOutbox(queue: queue))
        let logger = runtime.logger
        let runtime = self.runtime
        logger.debug("session opened", metadata: ["session": .string(session.id), "origin": .string("\(origin)")])
        defer {
            runtime.events.unsubscribeAll(session: session)
            session.limiter.close()
            queue.finish()
            logger.debug("session closed", metadata: ["session": .string(session.id)])
        }

        try await withThrowingTaskGroup(of: Void.self) { group in
            let channel = context.requestContext.channel
            group.addTask {
                while let batch = await queue.next() {
                    for frame in batch {
                        // `outbound.write` returns once NIO holds the frame, not once it is sent; waiting for the
                        // socket to drain below NIO's high-water mark keeps unsent data in our bounded queue.
                        while !channel.isWritable && channel.isActive {
                            try await Task.sleep(for: .milliseconds(2))
                        }
                        try await outbound.write(.text(String(decoding: frame, as: UTF8.self)))
                    }
                }
            }
            group.addTask {
                // The writer may be stuck behind a full socket, so an overflow closes the channel itself.
                if await queue.ended() == .overflowed {
                    logger.warning("closing a connection that stopped reading", metadata: [
                        "session": .string(session.id), "origin": .string("\(origin)"),
                        "limit": .string("\(outboundLimits.maxMessages) messages / \(outboundLimits.maxBytes) bytes"),
                    ])
                    // Reset rather than close: the megabytes the kernel still holds for this peer are stale,
                    // and a FIN would wait behind them for as long as the peer keeps its window shut.
                    if let provider = channel as? any SocketOptionProvider {
                        _ = try? await provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).get()
                    }
                    try? await channel.close()
                }
            }
            group.addTask {
                try await withThrowingDiscardingTaskGroup { calls in
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
                        if queue.ending == .overflowed { return }
                    }
                }
            }
            // Whichever side ends first ends the connection: the client left, or it stopped reading.
            try await group.next()
            queue.finish()
            group.cancelAll()
        }
    }
}
