import SwitchboardCore

/// Events for a DDP session: `added`/`changed`/`removed` frames, the first news of a document always
/// `added`. Frames that are the same for every DDP subscriber are encoded once per publish.
public final class DDPOutbox: EventOutbox {
    public let queue: OutboundQueue
    let documents: DDPDocuments

    public init(queue: OutboundQueue, documents: DDPDocuments) {
        self.queue = queue
        self.documents = documents
    }

    public func deliver(_ event: Event, frames: EncodedFrames) {
        guard let kind = documents.kind(for: event) else { return }
        let frame = frames.frame("ddp." + kind.rawValue) {
            DDPCodec.encodeEvent(kind: kind, collection: event.name, id: event.id, fields: event.fields)
        }
        queue.enqueue(frame, event: event, mergeable: kind == .changed, deferringWakeTo: frames.wakes) { merged in
            DDPCodec.encodeEvent(kind: .changed, collection: merged.name, id: merged.id, fields: merged.fields)
        }
    }

    /// A pushed message goes out `added` whatever its kind, and is not remembered as a document the client holds:
    /// messages are not documents, and a session pushed many would otherwise hold one entry per message. (A
    /// `changed` would break clients that never saw the id added; a `removed` would remove nothing.)
    public func push(_ event: Event, frames: EncodedFrames) {
        let frame = frames.frame("ddp.added") {
            DDPCodec.encodeEvent(kind: .added, collection: event.name, id: event.id, fields: event.fields)
        }
        queue.enqueue(frame, event: event, mergeable: false, deferringWakeTo: frames.wakes) { _ in frame }
    }

    public func unsubscribed(name: String, error: CallError?) {
        for id in documents.removeSubs(named: name) {
            queue.enqueue(DDPCodec.encodeNosub(id: id, collection: name, error: error))
        }
    }
}
