import SwitchboardCore
import SwitchboardWire

/// Events for a JSON-RPC session: encoded once per publish as `collection_update`, queued on the connection.
final class JSONRPCOutbox: EventOutbox {
    let queue: OutboundQueue

    init(queue: OutboundQueue) { self.queue = queue }

    func deliver(_ event: Event, frames: EncodedFrames) {
        queue.enqueue(frames.frame("jsonrpc") { JSONRPCCodec.encodeEvent(event) }, event: event, mergeable: event.kind == .changed,
                      deferringWakeTo: frames.wakes, encode: JSONRPCCodec.encodeEvent)
    }

    func unsubscribed(name: String, error: CallError?) {
        queue.enqueue(JSONRPCCodec.encodeUnsubscribed(collection: name, error: error))
    }
}
