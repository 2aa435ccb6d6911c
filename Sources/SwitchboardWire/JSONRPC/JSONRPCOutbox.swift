import SwitchboardCore

/// Events for a JSON-RPC session: encoded once per publish as `collection_update`, queued on the connection.
public final class JSONRPCOutbox: EventOutbox {
    public let queue: OutboundQueue

    public init(queue: OutboundQueue) { self.queue = queue }

    public func deliver(_ event: Event, frames: EncodedFrames) {
        queue.enqueue(frames.frame("jsonrpc") { JSONRPCCodec.encodeEvent(event) }, event: event, mergeable: event.kind == .changed,
                      deferringWakeTo: frames.wakes, encode: JSONRPCCodec.encodeEvent)
    }

    public func unsubscribed(name: String, error: CallError?) {
        queue.enqueue(JSONRPCCodec.encodeUnsubscribed(collection: name, error: error))
    }
}
