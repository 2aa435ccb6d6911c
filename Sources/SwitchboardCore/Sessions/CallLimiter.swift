import DequeModule
import Synchronization

/// Bounds how many calls of one session run at once and how many may wait: beyond both, a call is refused
/// with ETOOMANYREFS instead of queueing without bound.
public final class CallLimiter: Sendable {
    public struct Limits: Sendable, Equatable {
        public var maxRunning: Int
        public var maxQueued: Int

        public init(maxRunning: Int = 10, maxQueued: Int = 20) {
            self.maxRunning = maxRunning
            self.maxQueued = maxQueued
        }
    }

    struct State {
        var running = 0
        var closed = false
        var waiters = Deque<CheckedContinuation<Bool, Never>>()
    }

    public let limits: Limits
    private let state = Mutex(State())

    public init(limits: Limits) {
        self.limits = limits
    }

    enum Admission {
        case admitted
        case refused
        case wait
    }

    /// Takes a running slot, waiting for one if the queue has room.
    /// - Throws: `CallError.tooManyConcurrentCalls` when the queue is full or the session closed.
    public func acquire() async throws(CallError) {
        let admission: Admission = state.withLock { state in
            if state.closed { return .refused }
            if state.running < limits.maxRunning {
                state.running += 1
                return .admitted
            }
            return state.waiters.count < limits.maxQueued ? .wait : .refused
        }
        switch admission {
        case .admitted: return
        case .refused: throw .tooManyConcurrentCalls
        case .wait:
            let granted = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let enqueued = state.withLock { state -> Bool in
                    // Re-check: a slot may have freed, or the session closed, since the first look.
                    if state.closed { return false }
                    if state.running < limits.maxRunning {
                        state.running += 1
                        return false
                    }
                    state.waiters.append(continuation)
                    return true
                }
                if !enqueued {
                    continuation.resume(returning: !state.withLock { $0.closed })
                }
            }
            if !granted { throw .tooManyConcurrentCalls }
        }
    }

    /// Gives a slot back, handing it straight to the oldest waiter if there is one.
    public func release() {
        let next = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            if let waiter = state.waiters.popFirst() { return waiter }
            state.running -= 1
            return nil
        }
        next?.resume(returning: true)
    }

    /// Refuses every waiting and future call; used when the connection goes away.
    public func close() {
        let waiters = state.withLock { state -> Deque<CheckedContinuation<Bool, Never>> in
            state.closed = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: false) }
    }

    public var running: Int { state.withLock { $0.running } }
    public var queued: Int { state.withLock { $0.waiters.count } }
}
