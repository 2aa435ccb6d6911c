/// The `changed` frames a lagging connection still holds, one per document, so that a newer `changed` of the same
/// document supersedes the one waiting instead of queueing behind it.
///
/// Progress is state, not history (DDP's `changed` semantics): a client that applies two `changed` messages of
/// one document ends where it would with one message carrying both sets of fields, the later values winning. So a
/// connection that falls behind during a burst (a job reporting 12,000 steps) holds one frame per document, not
/// one per step, and a client that reads as fast as it can is never cut off by the burst. `added` and `removed`
/// are never merged and keep their places; one of them ends the merging for its document, so a `changed` never
/// crosses a removal.
///
/// Frames are numbered by their position in the queue's life (`sequence`), which survives the queue being taken
/// from the front. Bounded by the queue: at most one entry per frame queued.
struct PendingChanges {
    struct Entry {
        var sequence: Int
        /// The event as the client will see it (fields merged so far).
        var event: Event
    }

    private(set) var byDocument: [DocumentKey: Entry] = [:]
    private var bySequence: [Int: DocumentKey] = [:]

    var isEmpty: Bool { byDocument.isEmpty }
    var count: Int { byDocument.count }

    /// The pending `changed` of `key`, forgotten: it is about to be superseded, or an `added`/`removed` ends it.
    mutating func remove(_ key: DocumentKey) -> Entry? {
        guard let entry = byDocument.removeValue(forKey: key) else { return nil }
        bySequence.removeValue(forKey: entry.sequence)
        return entry
    }

    mutating func insert(_ key: DocumentKey, sequence: Int, event: Event) {
        byDocument[key] = Entry(sequence: sequence, event: event)
        bySequence[sequence] = key
    }

    /// The frame numbered `sequence` left the queue (taken by the writer): it can no longer be superseded.
    mutating func taken(_ sequence: Int) {
        guard let key = bySequence.removeValue(forKey: sequence) else { return }
        byDocument.removeValue(forKey: key)
    }

    /// The key of the frame numbered `sequence`, if it is a pending `changed`.
    func key(at sequence: Int) -> DocumentKey? { bySequence[sequence] }

    /// What a client must receive to end where `old` then `new` would have left it: `new`'s fields over `old`'s.
    /// `reencode` is false when `new` alone says it all (its fields cover `old`'s, as a job's whole record does),
    /// so the frame encoded once for every subscriber is sent as it is.
    static func merge(_ old: Event, _ new: Event) -> (event: Event, reencode: Bool) {
        var merged = new
        var reencode = false
        if case .object(let before) = old.fields, case .object(var after) = new.fields {
            for (name, value) in before where after[name] == nil {
                after[name] = value
                reencode = true
            }
            if reencode { merged.fields = .object(after) }
        }
        if new.extra.isNull && !old.extra.isNull {
            merged.extra = old.extra
            reencode = true
        }
        return (merged, reencode)
    }
}
