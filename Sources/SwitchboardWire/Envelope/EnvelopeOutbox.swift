import SwitchboardCore

/// Events for an envelope session: `{"namespace":"events","name":<event>,"id":"","args":{..}}`, encoded
/// once per publish for every envelope subscriber.
public final class EnvelopeOutbox: EventOutbox {
    public let queue: OutboundQueue
    let subscriptions: EnvelopeRequests.Subscriptions

    public init(queue: OutboundQueue, subscriptions: EnvelopeRequests.Subscriptions) {
        self.queue = queue
        self.subscriptions = subscriptions
    }

    public func deliver(_ event: Event, frames: EncodedFrames) {
        queue.enqueue(frames.frame("envelope") { EnvelopeCodec.encode(EnvelopeCodec.event(event)) }, event: event,
                      mergeable: event.kind == .changed, deferringWakeTo: frames.wakes) { EnvelopeCodec.encode(EnvelopeCodec.event($0)) }
    }

    /// The stream behind a subscription ended: the client hears it as an `events/unsubscribed` message.
    public func unsubscribed(name: String, error: CallError?) {
        subscriptions.ended(event: name)
        var args: JSONObject = ["name": .string(name)]
        if let error { args["error"] = EnvelopeCodec.errorArgs(error) }
        queue.enqueue(EnvelopeCodec.encode(["namespace": "events", "name": "unsubscribed", "id": "", "args": .object(args)]))
    }
}
