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
        try await connection.serve(dialect: "ddp", context: context, outbox: { DDPOutbox(queue: $0, documents: documents) }) { session, queue in
            var connected = false
            try await withThrowingDiscardingTaskGroup { calls in
                if heartbeat > .zero {
                    calls.addTask { await keepAlive(queue: queue, session: session) }
                }
                defer { calls.cancelAll() }
                try await connection.forEachMessage(inbound, session: session, queue: queue, decode: { DDPCodec.decode($0) }, method: {
                    if case .method(_, let method, _) = $0 { return method }
                    return nil
                }) { decoded in
                    // The handshake: `connected` must be the very next frame; anything else first gets `failed`.
                    guard connected else {
                        if case .connect(let version, let support) = decoded,
                           version == DDPCodec.version, support.isEmpty || support.contains(DDPCodec.version) {
                            connected = true
                            queue.enqueue(DDPCodec.encodeConnected(session: session.id))
                        } else {
                            queue.enqueue(DDPCodec.encodeFailed())
                        }
                        return
                    }
                    switch decoded {
                    case .connect:
                        queue.enqueue(DDPCodec.encodeMalformed(reason: "Already connected"))
                    case .ping(let id):
                        queue.enqueue(DDPCodec.encodePong(id: id))
                    case .pong:
                        break
                    case .method(let id, let method, let params):
                        calls.addTask {
                            switch await SessionCalls.perform(runtime, session: session, method: method, params: params, messageID: id) {
                            case .success(let value): queue.enqueue(DDPCodec.encodeResult(id: id, result: value))
                            case .failure(let error): queue.enqueue(DDPCodec.encodeError(id: id, error: error))
                            }
                        }
                    case .sub(let id, let name, _):
                        // Awaited in reading order, so an `unsub` right behind its `sub` finds it.
                        guard !documents.hasSub(id) else {
                            queue.enqueue(DDPCodec.encodeNosub(id: id, collection: name, error: CallError(Errno.EEXIST, "Subscription \(id) exists")))
                            return
                        }
                        switch await SessionCalls.perform(runtime, session: session, method: MethodName.subscribe, params: [.string(name)]) {
                        case .success(let bus):
                            documents.addSub(id, bus: bus.stringValue ?? "", name: name)
                            queue.enqueue(DDPCodec.encodeReady(subs: [id]))
                        case .failure(let error):
                            queue.enqueue(DDPCodec.encodeNosub(id: id, collection: name, error: error))
                        }
                    case .unsub(let id):
                        if let bus = documents.removeSub(id) {
                            _ = await SessionCalls.perform(runtime, session: session, method: MethodName.unsubscribe, params: [.string(bus)])
                        }
                        // Meteor confirms an unsub with `nosub` and no error.
                        queue.enqueue(DDPCodec.encodeNosub(id: id, collection: "", error: nil))
                    case .invalid(let id, let reason):
                        if let id {
                            queue.enqueue(DDPCodec.encodeError(id: id, error: CallError(Errno.EINVAL, reason)))
                        } else {
                            queue.enqueue(DDPCodec.encodeMalformed(reason: reason))
                        }
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
