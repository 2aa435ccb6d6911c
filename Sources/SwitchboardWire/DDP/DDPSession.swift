import SwitchboardCore

/// One DDP connection's protocol, without its socket: the `connect` handshake, `ping`/`pong`, and the
/// `sub`/`unsub` bookkeeping, as plain values in and out. A frame goes in (`receive`); what comes out is
/// either frames to send at once or work for the adapter (a call, a subscription), whose outcome comes back
/// in (`called`, `subscribed`) to be turned into frames. Synchronous on purpose: a socket adapter on SwiftNIO's
/// own channel handlers can drive it from `channelRead`, and the tests drive it with values.
///
/// Not thread-safe: one connection's reader owns it. The documents it shares with the connection's outbox
/// are (`DDPDocuments` is locked).
public final class DDPSession {
    /// What the adapter does with a received frame.
    public enum Step: Equatable {
        /// Send these frames (possibly none).
        case send([[UInt8]])
        /// Run the call; answer with `DDPSession.called(id:result:)`.
        case call(id: JSON, method: String, params: [JSON])
        /// Subscribe the session to `name` (`core.subscribe`), in reading order; answer with `subscribed`.
        case subscribe(id: JSON, name: String)
        /// End the bus subscription `bus` (`core.unsubscribe`) when there is one, then send `frames`.
        case unsubscribe(bus: String?, then: [UInt8])
    }

    public let documents: DDPDocuments
    public private(set) var isConnected = false
    let sessionID: String

    public init(sessionID: String, documents: DDPDocuments = DDPDocuments()) {
        self.sessionID = sessionID
        self.documents = documents
    }

    public func receive(_ inbound: DDPInbound) -> Step {
        // The handshake: `connected` must be the very next frame; anything else first gets `failed`.
        guard isConnected else {
            if case .connect(let version, let support) = inbound,
               version == DDPCodec.version, support.isEmpty || support.contains(DDPCodec.version) {
                isConnected = true
                return .send([DDPCodec.encodeConnected(session: sessionID)])
            }
            return .send([DDPCodec.encodeFailed()])
        }
        switch inbound {
        case .connect:
            return .send([DDPCodec.encodeMalformed(reason: "Already connected")])
        case .ping(let id):
            return .send([DDPCodec.encodePong(id: id)])
        case .pong:
            return .send([])
        case .method(let id, let method, let params):
            return .call(id: id, method: method, params: params)
        case .sub(let id, let name, _):
            guard !documents.hasSub(id) else {
                return .send([DDPCodec.encodeNosub(id: id, collection: name, error: CallError(Errno.EEXIST, "Subscription \(id) exists"))])
            }
            return .subscribe(id: id, name: name)
        case .unsub(let id):
            // Meteor confirms an unsub with `nosub` and no error.
            return .unsubscribe(bus: documents.removeSub(id), then: DDPCodec.encodeNosub(id: id, collection: "", error: nil))
        case .invalid(let id, let reason):
            if let id { return .send([DDPCodec.encodeError(id: id, error: CallError(Errno.EINVAL, reason))]) }
            return .send([DDPCodec.encodeMalformed(reason: reason)])
        }
    }

    /// The reply to a `method`.
    public static func called(id: JSON, result: Result<JSON, CallError>) -> [UInt8] {
        switch result {
        case .success(let value): return DDPCodec.encodeResult(id: id, result: value)
        case .failure(let error): return DDPCodec.encodeError(id: id, error: error)
        }
    }

    /// The answer to a `sub`: `ready`, with the bus subscription remembered, or `nosub` with the error.
    public func subscribed(id: JSON, name: String, result: Result<JSON, CallError>) -> [UInt8] {
        switch result {
        case .success(let bus):
            documents.addSub(id, bus: bus.stringValue ?? "", name: name)
            return DDPCodec.encodeReady(subs: [id])
        case .failure(let error):
            return DDPCodec.encodeNosub(id: id, collection: name, error: error)
        }
    }

    /// The method a frame calls, for the size limit a method may raise.
    public static func method(_ inbound: DDPInbound) -> String? {
        if case .method(_, let method, _) = inbound { return method }
        return nil
    }
}
