/// Where a session's events go: its dialect encodes them and queues them on the connection.
public protocol EventOutbox: Sendable {
    /// Delivers one event. `frames` holds the encodings made so far during this publish, so every dialect
    /// encodes an event once however many subscribers it has.
    func deliver(_ event: Event, frames: EncodedFrames)
    /// The stream behind a subscription ended (an event source stopped for good).
    func unsubscribed(name: String, error: CallError?)
}

/// Encodings of one event, per dialect, shared by every subscriber of one publish, and the wakes of the
/// connections it queued frames on, sent together when the publish is done.
public final class EncodedFrames {
    private var cache: [String: [UInt8]] = [:]
    public let wakes = WakeBatch()

    init() {}

    /// The frame for `dialect`, encoded by the first subscriber that asks.
    public func frame(_ dialect: String, _ encode: () -> [UInt8]) -> [UInt8] {
        if let frame = cache[dialect] { return frame }
        let frame = encode()
        cache[dialect] = frame
        return frame
    }
}
