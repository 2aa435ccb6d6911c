import HummingbirdWebSocket
import SwitchboardCore
import SwitchboardWire

/// Serves one `/api/current` WebSocket: decodes frames and runs calls concurrently within the session's
/// limits; replies and events go through one bounded queue that `OutboundFrameWriter` writes in batches, so
/// a client that stops reading is closed instead of growing the daemon.
struct JSONRPCWebSocketHandler: Sendable {
    let connection: DialectConnection

    func handle(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, context: WebSocketRouterContext<SwitchboardRequestContext>) async throws {
        let runtime = connection.runtime
        try await connection.serve(dialect: DialectName.jsonRPC, context: context, outbox: { JSONRPCOutbox(queue: $0) }) { session, queue in
            try await withThrowingDiscardingTaskGroup { calls in
                // When the client has gone, its calls stop: nobody will read their replies.
                defer { calls.cancelAll() }
                try await connection.forEachMessage(inbound, session: session, queue: queue, decode: { JSONRPCCodec.decode($0) }, method: Self.method) { decoded in
                    switch decoded {
                    case .invalid(let id, let code, let message, let reason):
                        queue.enqueue(JSONRPCCodec.encodeInvalid(id: id, code: code, message: message, reason: reason))
                    case .notification(let method, let params):
                        calls.addTask(executorPreference: SessionCalls.executor(runtime, method)) {
                            _ = await SessionCalls.perform(runtime, session: session, method: method, params: params)
                        }
                    case .call(let id, let method, let params):
                        calls.addTask(executorPreference: SessionCalls.executor(runtime, method)) {
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

    /// The method a decoded frame calls, for the size limit a method may raise.
    static func method(_ decoded: JSONRPCInbound) -> String? {
        switch decoded {
        case .call(_, let method, _), .notification(let method, _): return method
        case .invalid: return nil
        }
    }
}
