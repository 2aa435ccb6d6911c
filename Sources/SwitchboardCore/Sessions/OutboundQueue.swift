import DequeModule
import Synchronization

/// A connection's bounded queue of encoded frames, filled by replies and event fan-out from any thread,
/// drained by the connection's writer.
///
/// Producers never wait. The writer is woken once when the queue goes from idle to holding frames, takes
/// everything queued in one go, writes it as one batch and flushes once; it is not woken again until it has
/// taken. When the queue is over its message or byte bound it ends as `overflowed`, drops what it holds and
/// wakes the writer with that news: a client that stops reading costs at most the bound, never the daemon's
/// memory.
///
/// A connection that falls behind (`mergeThreshold` frames waiting, 64 by default) merges events: a `changed` event queued with
/// `enqueue(_:event:mergeable:deferringWakeTo:encode:)` supersedes the `changed` of the same document still
/// waiting (`PendingChanges`), so a burst of progress costs one frame per document, and the bound is reached only
/// by a client that really stops reading. A superseded frame leaves an empty slot behind, counted in neither bound;
/// slots are compacted once they are half the message bound, so the queue holds at most 1.5 × `maxMessages`
/// slots.
///
/// A queue made with an `OutboundExecutor` runs its waker on the executor's thread. An event publish then
/// defers the wakes it causes (`enqueue(_:deferringWakeTo:)`) and wakes every queue of one executor in one
/// hop: a thousand subscribers on two event loops cost two cross-thread handoffs, not a thousand.
public final class OutboundQueue: Sendable {
    public struct Limits: Sendable, Equatable {
        public var maxMessages: Int
        public var maxBytes: Int

        public init(maxMessages: Int = 4_096, maxBytes: Int = 8 << 20) {
            self.maxMessages = maxMessages
            self.maxBytes = maxBytes
        }
    }

    /// Why the queue stopped.
    public enum Ending: Sendable, Equatable {
        case finished
        case overflowed
        /// The daemon closes the connection on purpose (a message over the size limit, ...): what is queued is
        /// still sent, then a close frame with the code and reason.
        case closed
    }

    /// What the writer is woken for.
    public enum Wake: Sendable, Equatable {
        /// Frames are waiting; call `take`.
        case frames
        /// The queue overflowed; close the connection.
        case overflowed
        /// Send what is queued, then close with this code and reason.
        case close(code: UInt16, reason: String)
    }

    public typealias Waker = @Sendable (Wake) -> Void

    /// Frames waiting before events start to merge: below it the writer keeps up, and an event costs no lookup.
    /// A quarter of a small bound, so merging starts well before the bound is reached.
    public var mergeThreshold: Int { min(64, max(1, limits.maxMessages / 4)) }

    /// Supersessions without a single take that mark a client as stopped, not slow: merging bounds what it costs,
    /// but a connection whose reader is gone is closed as before (1008), not kept forever.
    public var stallBound: Int { max(4 * limits.maxMessages, 4_096) }

    struct State {
        /// Waiting frames, oldest first; an empty one is a superseded frame's slot.
        var frames = Deque<[UInt8]>()
        var bytes = 0
        /// Empty slots in `frames`.
        var superseded = 0
        /// The sequence number of `frames.first`: frames are numbered by their place in the queue's life.
        var head = 0
        var changes = PendingChanges()
        /// Frames superseded since the writer last took: a client that reads nothing is still found out.
        var supersededSinceTake = 0
        var ending: Ending?
        /// A wake is on its way and `take` has not run since: no need for another.
        var wakePending = false
        /// Cleared when the queue ends, so a writer that captured the queue is released with it.
        var waker: Waker?
        /// Frames lost when the queue overflowed: what it held and the one that did not fit.
        var droppedAtOverflow = 0
    }

    public let limits: Limits
    /// Where the waker runs; nil: on the thread that caused the wake.
    public let executor: (any OutboundExecutor)?
    /// Where overflows and dropped frames are counted (the daemon's `TrafficCounters`).
    let counters: TrafficCounters?
    private let state: Mutex<State>

    /// - Parameter waker: called on the thread that caused the wake; it must not block.
    public init(limits: Limits = Limits(), counters: TrafficCounters? = nil, waker: @escaping Waker) {
        self.limits = limits
        self.executor = nil
        self.counters = counters
        self.state = Mutex(State(waker: waker))
    }

    /// - Parameter waker: called on `executor`'s thread.
    public init(limits: Limits = Limits(), executor: any OutboundExecutor, counters: TrafficCounters? = nil, waker: @escaping Waker) {
        self.limits = limits
        self.executor = executor
        self.counters = counters
        self.state = Mutex(State(waker: waker))
    }

    private func wake(_ waker: @escaping Waker, _ wake: Wake) {
        if let executor { executor.execute { waker(wake) } } else { waker(wake) }
    }

    /// Queues a frame; `false` when the queue has ended (or just overflowed) and the frame was dropped.
    @discardableResult
    public func enqueue(_ frame: [UInt8]) -> Bool {
        enqueue(frame, deferringWakeTo: nil)
    }

    /// Queues a frame; a wake for new frames is left to `wakes` (sent when it is flushed) when given, and this
    /// queue has an executor. Overflow is told at once.
    @discardableResult
    public func enqueue(_ frame: [UInt8], deferringWakeTo wakes: WakeBatch?) -> Bool {
        let (accepted, wake, waker) = state.withLock { state in Self.append(frame, to: &state, limits: limits) }
        if !accepted { count(wake) }
        notify(wake, waker, wakes)
        return accepted
    }

    /// Counts a frame that was not queued: an overflow just now (with everything it dropped), or a queue that
    /// had ended before.
    private func count(_ wake: Wake?) {
        guard let counters else { return }
        if wake == .overflowed {
            counters.overflowed(dropping: state.withLock { $0.droppedAtOverflow })
        } else {
            counters.refused()
        }
    }

    /// Queues the frame of an event. When the connection has fallen behind and `mergeable` (a `changed` as the
    /// client will see it), it supersedes the waiting `changed` of the same document: the frame goes to the end
    /// of the queue with both events' fields (`encode` makes it when `frame` alone does not carry them all). An
    /// event that is not mergeable (`added`, `removed`) ends the merging for its document.
    @discardableResult
    public func enqueue(_ frame: [UInt8], event: Event, mergeable: Bool, deferringWakeTo wakes: WakeBatch?,
                        encode: (Event) -> [UInt8]) -> Bool {
        let (accepted, wake, waker) = state.withLock { state -> (Bool, Wake?, Waker?) in
            guard state.ending == nil else { return (false, nil, nil) }
            let lagging = state.frames.count - state.superseded >= mergeThreshold
            guard lagging || !state.changes.isEmpty else { return Self.append(frame, to: &state, limits: limits) }
            let key = DocumentKey(event)
            guard mergeable else {
                _ = state.changes.remove(key)
                return Self.append(frame, to: &state, limits: limits)
            }
            var event = event
            var frame = frame
            if let waiting = state.changes.remove(key) {
                let merged = PendingChanges.merge(waiting.event, event)
                event = merged.event
                if merged.reencode { frame = encode(event) }
                state.supersededSinceTake += 1
                if state.supersededSinceTake > stallBound { return Self.overflow(&state) }
                let index = waiting.sequence - state.head
                state.bytes -= state.frames[index].count
                state.frames[index] = []
                state.superseded += 1
            } else if !lagging {
                return Self.append(frame, to: &state, limits: limits)
            }
            let sequence = state.head + state.frames.count
            let appended = Self.append(frame, to: &state, limits: limits)
            if appended.0 {
                state.changes.insert(key, sequence: sequence, event: event)
                if state.superseded > limits.maxMessages / 2 { Self.compact(&state) }
            }
            return appended
        }
        if !accepted { count(wake) }
        notify(wake, waker, wakes)
        return accepted
    }

    /// Appends a frame within the bounds, or ends the queue as overflowed. Runs under the lock.
    private static func append(_ frame: [UInt8], to state: inout State, limits: Limits) -> (Bool, Wake?, Waker?) {
        guard state.ending == nil else { return (false, nil, nil) }
        if state.frames.count - state.superseded >= limits.maxMessages || state.bytes + frame.count > limits.maxBytes {
            return overflow(&state)
        }
        state.frames.append(frame)
        state.bytes += frame.count
        if state.wakePending { return (true, nil, nil) }
        state.wakePending = true
        return (true, .frames, state.waker)
    }

    /// Ends the queue as overflowed and lets go of what it holds. Runs under the lock.
    private static func overflow(_ state: inout State) -> (Bool, Wake?, Waker?) {
        state.ending = .overflowed
        state.droppedAtOverflow = state.frames.count - state.superseded + 1
        state.frames = Deque()
        state.bytes = 0
        state.superseded = 0
        state.changes = PendingChanges()
        let waker = state.waker
        state.waker = nil
        return (false, .overflowed, waker)
    }

    /// Drops the empty slots of superseded frames, renumbering the waiting changes. O(frames), once per
    /// `maxMessages / 2` supersessions.
    private static func compact(_ state: inout State) {
        var frames = Deque<[UInt8]>(minimumCapacity: state.frames.count - state.superseded)
        var changes = PendingChanges()
        for (offset, frame) in state.frames.enumerated() where !frame.isEmpty {
            if let key = state.changes.key(at: state.head + offset), let entry = state.changes.byDocument[key] {
                changes.insert(key, sequence: state.head + frames.count, event: entry.event)
            }
            frames.append(frame)
        }
        state.frames = frames
        state.changes = changes
        state.superseded = 0
    }

    private func notify(_ wake: Wake?, _ waker: Waker?, _ wakes: WakeBatch?) {
        guard let wake, let waker else { return }
        if wake == .frames, let wakes, let executor {
            wakes.add(executor, waker)
        } else {
            self.wake(waker, wake)
        }
    }

    /// Takes queued frames, oldest first, up to about `maxBytes` (always at least one frame), and re-arms the
    /// wake once the queue is empty. Frames queued before `finish` are still handed out; nothing after an
    /// overflow is.
    public func take(maxBytes: Int = .max) -> [[UInt8]] {
        state.withLock { state in
            if state.ending == .overflowed { return [] }
            state.supersededSinceTake = 0
            var batch: [[UInt8]] = []
            var size = 0
            while let frame = state.frames.first, batch.isEmpty || size + frame.count <= maxBytes {
                state.frames.removeFirst()
                if !state.changes.isEmpty { state.changes.taken(state.head) }
                state.head += 1
                if frame.isEmpty {
                    state.superseded -= 1
                    continue
                }
                batch.append(frame)
                size += frame.count
            }
            state.bytes -= size
            if state.frames.isEmpty { state.wakePending = false }
            return batch
        }
    }

    /// Ends the queue and has the writer close the connection with `code` and `reason` once what is queued has
    /// been sent; later frames are dropped. Nothing happens if the queue has already ended.
    public func close(code: UInt16, reason: String) {
        let waker = state.withLock { state -> Waker? in
            guard state.ending == nil else { return nil }
            state.ending = .closed
            let waker = state.waker
            state.waker = nil
            return waker
        }
        if let waker { wake(waker, .close(code: code, reason: reason)) }
    }

    /// Ends the queue: later frames are dropped, queued ones can still be taken. Releases the waker.
    public func finish() {
        state.withLock { state in
            if state.ending == nil { state.ending = .finished }
            state.waker = nil
        }
    }

    public var ending: Ending? { state.withLock { $0.ending } }

    /// Frames and bytes waiting, for tests and diagnostics.
    public var pending: (messages: Int, bytes: Int) { state.withLock { ($0.frames.count - $0.superseded, $0.bytes) } }

    /// Slots held, superseded ones included: the memory bound's measure, for tests.
    var slots: Int { state.withLock { $0.frames.count } }
}

/// Runs work on the thread that owns a group of outbound queues (a NIO event loop).
public protocol OutboundExecutor: Sendable {
    /// Executors with the same key run work on the same thread: their queues are woken together.
    var key: ObjectIdentifier { get }
    func execute(_ work: @escaping @Sendable () -> Void)
}

/// The frame wakes one publish defers, grouped by executor; `flush()` sends each group in one hop.
/// Used by one thread at a time, during one publish.
public final class WakeBatch {
    private var groups: [ObjectIdentifier: (executor: any OutboundExecutor, wakers: [OutboundQueue.Waker])] = [:]

    public init() {}

    func add(_ executor: any OutboundExecutor, _ waker: @escaping OutboundQueue.Waker) {
        groups[executor.key, default: (executor, [])].wakers.append(waker)
    }

    /// Wakes every deferred queue; call it once the publish has queued its frames.
    public func flush() {
        for (_, group) in groups {
            let wakers = group.wakers
            group.executor.execute { for waker in wakers { waker(.frames) } }
        }
        groups = [:]
    }
}
