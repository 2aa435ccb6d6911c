/// Where a session's events go: its dialect encodes them and queues them on the connection.
///
/// Class-bound: a publish hands every subscriber's outbox around, and a reference is copied with one retain,
/// where an existential of any value type went through the runtime's value witnesses, per subscriber.
public protocol EventOutbox: AnyObject, Sendable {
    /// Delivers one event. `frames` holds the encodings made so far during this publish, so every dialect
    /// encodes an event once however many subscribers it has.
    func deliver(_ event: Event, frames: EncodedFrames)
    /// The stream behind a subscription ended (an event source stopped for good).
    func unsubscribed(name: String, error: CallError?)
    /// Delivers a message a plugin pushed to this session unasked (see the default below).
    func push(_ event: Event, frames: EncodedFrames)
}

/// Encodings of one event, per dialect, shared by every subscriber of one publish, and the wakes of the
/// connections it queued frames on, sent together when the publish is done.
public final class EncodedFrames {
    /// A publish makes one to three encodings (one per dialect, DDP's per kind): a short list compared by
    /// name beats hashing the name for every subscriber.
    private var cache: [(dialect: String, frame: [UInt8])] = []
    public let wakes = WakeBatch()

    init() {}

    /// The frame for `dialect`, encoded by the first subscriber that asks.
    public func frame(_ dialect: String, _ encode: () -> [UInt8]) -> [UInt8] {
        for entry in cache where entry.dialect == dialect { return entry.frame }
        let frame = encode()
        cache.append((dialect, frame))
        return frame
    }
}

extension EventOutbox {
    /// Delivers an event that a plugin pushed to this session unasked (`PluginContext.push`): a message, not
    /// news of a document the session holds. Dialects that keep track of documents (DDP) send it without
    /// remembering it, so that a long-lived session pushed many messages holds nothing for them.
    public func push(_ event: Event, frames: EncodedFrames) {
        deliver(event, frames: frames)
    }
}
