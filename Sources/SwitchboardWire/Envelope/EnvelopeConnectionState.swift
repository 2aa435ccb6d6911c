import Synchronization
import SwitchboardCore

/// What one envelope WebSocket connection keeps between its messages: its event subscriptions (the name or
/// mask the client gave -> the bus subscription id), how its events are framed (sysadm's, or FreeNAS 10's once
/// it said it is a FreeNAS 10 client), and its answers being streamed (FreeNAS 10's `streaming_responses`).
///
/// Streams are bounded: at most `maxStreams` unfinished at once, each holding one page (`QueryStream`); they
/// end with their last fragment, an `rpc/abort`, or the connection.
public final class EnvelopeConnectionState: Sendable {
    struct Streamed: Sendable {
        var stream: QueryStream
        var seqno: Int
        /// A fragment is being read: a second `continue` meanwhile would read the same page again.
        var reading = false
    }

    private let byName = Mutex<[String: String]>([:])
    private let freenas: Atomic<Bool>
    private let streams = Mutex<[String: Streamed]>([:])
    public let maxStreams: Int

    public init(freenasFrames: Bool = false, maxStreams: Int = 64) {
        freenas = Atomic(freenasFrames)
        self.maxStreams = maxStreams
    }

    /// Read for every event delivered: an atomic, not a lock.
    var freenasFrames: Bool { freenas.load(ordering: .relaxed) }
    func useFreeNASFrames() { freenas.store(true, ordering: .relaxed) }

    func bus(_ name: String) -> String? { byName.withLock { $0[name] } }
    func add(_ name: String, bus: String) { byName.withLock { $0[name] = bus } }
    func remove(_ name: String) -> String? { byName.withLock { $0.removeValue(forKey: name) } }

    /// The daemon ended the subscriptions to `event` (its plugin was unloaded, its source stopped): forget
    /// them, so that subscribing again subscribes anew instead of finding the name taken. Masks stay.
    public func ended(event: String) {
        byName.withLock { byName in
            for name in byName.keys where name == event || name.hasPrefix(event + ":") { byName.removeValue(forKey: name) }
        }
    }

    /// Keeps a stream under the call's id. - Throws: EBUSY at `maxStreams`, EEXIST for an id already streaming.
    func open(_ id: String, _ stream: QueryStream) throws(CallError) {
        try streams.withLock { streams throws(CallError) in
            guard streams[id] == nil else { throw CallError(Errno.EEXIST, "A streamed answer with id \(id) is already open") }
            guard streams.count < maxStreams else {
                throw CallError(Errno.EBUSY, "Too many unfinished streamed answers on this connection (\(maxStreams)): continue or abort one first")
            }
            streams[id] = Streamed(stream: stream, seqno: 0)
        }
    }

    /// The stream under `id` with the number its next fragment gets, marked as being read until `read(_:)`.
    /// - Throws: ENOENT `Invalid call` when there is none; EBUSY while its previous fragment is being read.
    func advance(_ id: String) throws(CallError) -> (QueryStream, Int) {
        try streams.withLock { streams throws(CallError) in
            guard var entry = streams[id] else { throw CallError(Errno.ENOENT, "Invalid call") }
            guard !entry.reading else { throw CallError(Errno.EBUSY, "The previous fragment of \(id) is still being read: continue after it arrives") }
            entry.seqno += 1
            entry.reading = true
            streams[id] = entry
            return (entry.stream, entry.seqno)
        }
    }

    /// The fragment `advance` handed out has been read.
    func read(_ id: String) {
        streams.withLock { streams in streams[id]?.reading = false }
    }

    @discardableResult
    func close(_ id: String) -> Bool { streams.withLock { $0.removeValue(forKey: id) != nil } }

    var openStreams: Int { streams.withLock { $0.count } }
}
