import HummingbirdWebSocket
import Logging
import NIOCore
import SwitchboardCore
import SwitchboardWire

/// Serves one `/websocket` connection in the DDP-style dialect of middlewared 24.x (seed 001): the
/// `connect` handshake, `method`/`result`, `ping`/`pong`, `sub`/`ready`/`nosub`/`unsub`, and events as
/// `added`/`changed`/`removed`, over the same call pipeline, event bus and outbound writer as JSON-RPC.
struct DDPWebSocketHandler: Sendable {
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
        let documents = DDPDocuments()
        let session = Session(id: sessionID, dialect: "ddp", origin: origin, limits: limits,
                              credentials: PeerCredentials.trustedCredentials(for: origin),
                              outbox: DDPOutbox(queue: queue, documents: documents))
        let runtime = self.runtime
        defer {
            runtime.events.unsubscribeAll(session: session)
            session.limiter.close()
            queue.finish()
        }

        var connected = false
        try await withThrowingDiscardingTaskGroup { calls in
            for try await message in inbound.messages(maxSize: maxMessageSize) {
                if queue.ending == .overflowed { break }
                let decoded: DDPInbound
                switch message {
                case .text(var text):
                    decoded = text.withUTF8 { DDPCodec.decode(UnsafeRawBufferPointer($0)) }
                case .binary(let buffer):
                    decoded = buffer.withUnsafeReadableBytes { DDPCodec.decode($0) }
                }
                // The handshake: `connected` must be the very next frame; anything else first gets `failed`.
                guard connected else {
                    if case .connect(let version, let support) = decoded,
                       version == DDPCodec.version, support.isEmpty || support.contains(DDPCodec.version) {
                        connected = true
                        queue.enqueue(DDPCodec.encodeConnected(session: session.id))
                    } else {
                        queue.enqueue(DDPCodec.encodeFailed())
                    }
                    continue
                }
                switch decoded {
                case .connect:
                    queue.enqueue(DDPCodec.encodeError(id: .null, error: CallError(Errno.EINVAL, "Already connected")))
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
                    if documents.hasSub(id) {
                        queue.enqueue(DDPCodec.encodeNosub(id: id, collection: name, error: CallError(Errno.EEXIST, "Subscription \(id) exists")))
                        continue
                    }
                    do {
                        let bus = try runtime.events.subscribe(session: session, name: name)
                        documents.addSub(id, bus: bus, name: name)
                        queue.enqueue(DDPCodec.encodeReady(subs: [id]))
                    } catch {
                        queue.enqueue(DDPCodec.encodeNosub(id: id, collection: name, error: error as? CallError ?? .internalError("\(error)")))
                    }
                case .unsub(let id):
                    if let bus = documents.removeSub(id) { runtime.events.unsubscribe(session: session, id: bus) }
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
