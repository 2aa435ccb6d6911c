import SwitchboardCore

/// Events for an envelope session: `{"namespace":"events","name":<event>,"id":"","args":{..}}` (sysadm's frames,
/// the default), or FreeNAS 10's `{"namespace":"events","name":"event","id":null,"args":{"name","args"}}` for a
/// FreeNAS 10 client; each encoded once per publish for every envelope subscriber.
public final class EnvelopeOutbox: EventOutbox {
    public let queue: OutboundQueue
    let state: EnvelopeConnectionState

    public init(queue: OutboundQueue, state: EnvelopeConnectionState) {
        self.queue = queue
        self.state = state
    }

    public func deliver(_ event: Event, frames: EncodedFrames) {
        // Each framing is encoded once per publish, for every envelope subscriber that takes it.
        let freenas = state.freenasFrames
        let message: @Sendable (Event) -> JSON = freenas ? EnvelopeCodec.freenasEvent : EnvelopeCodec.event
        queue.enqueue(frames.frame(freenas ? "envelope-freenas" : "envelope") { EnvelopeCodec.encode(message(event)) }, event: event,
                      mergeable: event.kind == .changed, deferringWakeTo: frames.wakes) { EnvelopeCodec.encode(message($0)) }
    }

    /// The stream behind a subscription ended: the client hears it as an `events/unsubscribed` message.
    public func unsubscribed(name: String, error: CallError?) {
        state.ended(event: name)
        var args: JSONObject = ["name": .string(name)]
        if let error { args["error"] = EnvelopeCodec.errorArgs(error) }
        queue.enqueue(EnvelopeCodec.encode(["namespace": "events", "name": "unsubscribed", "id": "", "args": .object(args)]))
    }
}
