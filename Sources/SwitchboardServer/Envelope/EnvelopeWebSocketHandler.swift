import HummingbirdWebSocket
import SwitchboardCore
import SwitchboardWire

/// Serves one `/socket` or `/` connection in the envelope dialect of the FreeNAS 10 dispatcher and sysadm:
/// every request `{"namespace","name","id","args"}` runs concurrently within the session's limits and is
/// answered by a `response` or `error` envelope with its id. `events/*` requests are awaited in reading
/// order, so an unsubscribe right behind its subscribe finds it.
struct EnvelopeWebSocketHandler: Sendable {
    let connection: DialectConnection
    let requests: EnvelopeRequests

    func handle(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, context: WebSocketRouterContext<SwitchboardRequestContext>) async throws {
        let state = EnvelopeConnectionState(freenasFrames: requests.freenasEvents)
        try await connection.serve(dialect: DialectName.envelope, context: context, outbox: { EnvelopeOutbox(queue: $0, state: state) }) { session, queue in
            try await withThrowingDiscardingTaskGroup { calls in
                // When the client has gone, its calls stop: nobody will read their replies.
                defer { calls.cancelAll() }
                try await connection.forEachMessage(inbound, session: session, queue: queue, decode: { EnvelopeCodec.decode($0) }, method: {
                    guard case .request(_, let namespace, let name, let args) = $0 else { return nil }
                    return requests.method(namespace: namespace, name: name, args: args)
                }) { decoded in
                    switch decoded {
                    case .invalid(let id, let reason):
                        queue.enqueue(EnvelopeCodec.encode(EnvelopeCodec.error(id: id, error: CallError(Errno.EINVAL, reason))))
                    case .request(let id, "events", let name, let args):
                        if let reply = await requests.reply(id: id, namespace: "events", name: name, args: args, session: session, state: state) {
                            queue.enqueue(EnvelopeCodec.encode(reply))
                        }
                    case .request(let id, let namespace, let name, let args):
                        let method = requests.method(namespace: namespace, name: name, args: args)
                        calls.addTask(executorPreference: method.flatMap { SessionCalls.executor(connection.runtime, $0) }) {
                            if let reply = await requests.reply(id: id, namespace: namespace, name: name, args: args, session: session, state: state) {
                                queue.enqueue(EnvelopeCodec.encode(reply))
                            }
                        }
                    }
                }
            }
        }
    }
}
