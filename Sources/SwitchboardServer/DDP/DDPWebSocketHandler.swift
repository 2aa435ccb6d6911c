import HummingbirdWebSocket
import SwitchboardCore
import SwitchboardWire

/// Serves one `/websocket` connection in the DDP-style dialect of middlewared 24.x (seed 001): the
/// `connect` handshake, `method`/`result`, `ping`/`pong`, `sub`/`ready`/`nosub`/`unsub`, and events as
/// `added`/`changed`/`removed`. Subscriptions are `core.subscribe`/`core.unsubscribe` calls through the same
/// pipeline as every dialect's, so their checks and errors are the ones JSON-RPC clients get.
struct DDPWebSocketHandler: Sendable {
    let connection: DialectConnection
    /// Silence after which the server pings; `.zero` for never.
    let heartbeat: Duration

    func handle(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, context: WebSocketRouterContext<SwitchboardRequestContext>) async throws {
        let runtime = connection.runtime
        let documents = DDPDocuments()
        try await connection.serve(dialect: DialectName.ddp, context: context, outbox: { DDPOutbox(queue: $0, documents: documents) }) { session, queue in
            let protocolState = DDPSession(sessionID: session.id, documents: documents)
            try await withThrowingDiscardingTaskGroup { calls in
                if heartbeat > .zero {
                    calls.addTask { await keepAlive(queue: queue, session: session) }
                }
                defer { calls.cancelAll() }
                try await connection.forEachMessage(inbound, session: session, queue: queue, decode: { DDPCodec.decode($0) },
                                                    method: DDPSession.method) { decoded in
                    switch protocolState.receive(decoded) {
                    case .send(let frames):
                        for frame in frames { queue.enqueue(frame) }
                    case .call(let id, let method, let params):
                        calls.addTask(executorPreference: SessionCalls.executor(runtime, method)) {
                            let result = await SessionCalls.perform(runtime, session: session, method: method, params: params, messageID: id)
                            queue.enqueue(DDPSession.called(id: id, result: result))
                        }
                    case .subscribe(let id, let name):
                        // Awaited in reading order, so an `unsub` right behind its `sub` finds it.
                        let result = await SessionCalls.perform(runtime, session: session, method: MethodName.subscribe, params: [.string(name)])
                        queue.enqueue(protocolState.subscribed(id: id, name: name, result: result))
                    case .unsubscribe(let bus, let frame):
                        if let bus {
                            _ = await SessionCalls.perform(runtime, session: session, method: MethodName.unsubscribe, params: [.string(bus)])
                        }
                        queue.enqueue(frame)
                    }
                }
            }
        }
    }

    /// Meteor's heartbeat: after `heartbeat` of silence a `ping`; after as long again without any message
    /// (a `pong` or anything else) the connection is closed, so a vanished peer does not hold a session.
    func keepAlive(queue: OutboundQueue, session: Session) async {
        let interval = heartbeat.nanoseconds
        var pings = 0
        // The last-heard time a ping was sent for: one ping per silence.
        var pingedFor: Int64 = -1
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: heartbeat / 4)
            } catch {
                return
            }
            let heard = session.lastActivity
            let silent = Session.monotonicNow - heard
            if silent >= 2 * interval {
                queue.close(code: 1001, reason: "no answer to the heartbeat")
                return
            }
            if silent >= interval, pingedFor != heard {
                pingedFor = heard
                pings += 1
                queue.enqueue(DDPCodec.encodePing(id: String(pings)))
            }
        }
    }
}
