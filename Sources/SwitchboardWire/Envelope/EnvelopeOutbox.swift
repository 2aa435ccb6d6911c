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
        if state.freenasFrames {
            queue.enqueue(frames.frame("envelope-freenas") { EnvelopeCodec.encode(EnvelopeCodec.freenasEvent(event)) }, event: event,
                          mergeable: event.kind == .changed, deferringWakeTo: frames.wakes) { EnvelopeCodec.encode(EnvelopeCodec.freenasEvent($0)) }
        } else {
            queue.enqueue(frames.frame("envelope") { EnvelopeCodec.encode(EnvelopeCodec.event(event)) }, event: event,
                          mergeable: event.kind == .changed, deferringWakeTo: frames.wakes) { EnvelopeCodec.encode(EnvelopeCodec.event($0)) }
        }
    }

    /// The stream behind a subscription ended: the client hears it as an `events/unsubscribed` message.
    public func unsubscribed(name: String, error: CallError?) {
        state.ended(event: name)
        var args: JSONObject = ["name": .string(name)]
        if let error { args["error"] = EnvelopeCodec.errorArgs(error) }
        queue.enqueue(EnvelopeCodec.encode(["namespace": "events", "name": "unsubscribed", "id": "", "args": .object(args)]))
    }
}
