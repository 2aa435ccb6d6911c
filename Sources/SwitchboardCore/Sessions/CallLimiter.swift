import DequeModule
import Synchronization

/// Bounds how many calls of one session run at once and how many may wait: beyond both, a call is refused
/// with ETOOMANYREFS instead of queueing without bound.
///
/// It also knows which methods hold its slots and which wait, and since when, so that `control.dump` can say
/// what a stuck daemon is doing. That costs a call one clock read and an entry in a per-session array under the
/// lock it takes anyway (no lock shared between sessions); the array keeps its capacity, so a busy session does
/// not allocate per call. At most `maxRunning` calls and `maxQueued` waiters are held.
public final class CallLimiter: Sendable {
    public struct Limits: Sendable, Equatable {
        public var maxRunning: Int
        public var maxQueued: Int

        public init(maxRunning: Int = 10, maxQueued: Int = 20) {
            self.maxRunning = maxRunning
            self.maxQueued = maxQueued
        }
    }

    /// A call that holds a slot, or waits for one.
    public struct Call: Sendable, Equatable {
        public let method: String
        /// When it took its slot, or when it began to wait.
        public let since: ContinuousClock.Instant
    }

    /// What `acquire` hands out and `release` takes back.
    public struct Slot: Sendable, Equatable {
        let id: UInt64
        /// When the call asked for its slot: its latency, as the client sees it, counts from here (queueing included).
        public let since: ContinuousClock.Instant
    }

    struct Waiter {
        let id: UInt64
        let method: String
        let since: ContinuousClock.Instant
        let continuation: CheckedContinuation<Bool, Never>
    }

    struct State {
        var running: [(id: UInt64, call: Call)] = []
        var nextID: UInt64 = 0
        var closed = false
        var waiters = Deque<Waiter>()

        mutating func admit(_ method: String, since: ContinuousClock.Instant) -> Slot {
            nextID &+= 1
            running.append((nextID, Call(method: method, since: since)))
            return Slot(id: nextID, since: since)
        }
    }

    public let limits: Limits
    private let state = Mutex(State())

    public init(limits: Limits) {
        self.limits = limits
    }

    enum Admission {
        case admitted(Slot)
        case refused
        case wait
    }

    /// Takes a running slot for a call of `method`, waiting for one if the queue has room.
    /// - Throws: `CallError.tooManyConcurrentCalls` when the queue is full or the session closed.
    public func acquire(_ method: String) async throws(CallError) -> Slot {
        let now = ContinuousClock.now
        let admission: Admission = state.withLock { state in
            if state.closed { return .refused }
            if state.running.count < limits.maxRunning { return .admitted(state.admit(method, since: now)) }
            return state.waiters.count < limits.maxQueued ? .wait : .refused
        }
        switch admission {
        case .admitted(let slot): return slot
        case .refused: throw .tooManyConcurrentCalls
        case .wait:
            var slot: Slot?
            let granted = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let enqueued = state.withLock { state -> Bool in
                    // Re-check: a slot may have freed, or the session closed, since the first look.
                    if state.closed { return false }
                    if state.running.count < limits.maxRunning {
                        slot = state.admit(method, since: now)
                        return false
                    }
                    state.nextID &+= 1
                    state.waiters.append(Waiter(id: state.nextID, method: method, since: now, continuation: continuation))
                    slot = Slot(id: state.nextID, since: now)
                    return true
                }
                if !enqueued {
                    continuation.resume(returning: !state.withLock { $0.closed })
                }
            }
            guard granted, let slot else { throw .tooManyConcurrentCalls }
            return slot
        }
    }

    /// Gives a slot back, handing it straight to the oldest waiter if there is one (the waiter's call then
    /// counts as running from now).
    public func release(_ slot: Slot) {
        let now = ContinuousClock.now
        let next = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            if let index = state.running.firstIndex(where: { $0.id == slot.id }) {
                state.running.remove(at: index)
            }
            guard let waiter = state.waiters.popFirst() else { return nil }
            state.running.append((waiter.id, Call(method: waiter.method, since: now)))
            return waiter.continuation
        }
        next?.resume(returning: true)
    }

    /// Refuses every waiting and future call; used when the connection goes away.
    public func close() {
        let waiters = state.withLock { state -> Deque<Waiter> in
            state.closed = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.continuation.resume(returning: false) }
    }

    public var running: Int { state.withLock { $0.running.count } }
    public var queued: Int { state.withLock { $0.waiters.count } }

    /// The calls holding a slot, oldest first, and those waiting, in the order they will run.
    public var calls: (running: [Call], queued: [Call]) {
        state.withLock { state in
            (state.running.map(\.call).sorted { $0.since < $1.since },
             state.waiters.map { Call(method: $0.method, since: $0.since) })
        }
    }
}
