import DequeModule
import Synchronization

/// A connection's bounded queue of encoded frames, filled by replies and event fan-out, drained by one
/// writer task.
///
/// Producers never wait: when the queue is over its message or byte bound the connection is marked
/// overflowed, the writer stops and the connection is closed. A client that stops reading costs at most
/// the bound, never the daemon's memory.
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
    }

    struct State {
        var frames = Deque<[UInt8]>()
        var bytes = 0
        var ending: Ending?
        var waiter: CheckedContinuation<Void, Never>?
        var endWaiters: [CheckedContinuation<Ending, Never>] = []
    }

    public let limits: Limits
    private let state = Mutex(State())

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Queues a frame; `false` when the queue has ended (or just overflowed) and the frame was dropped.
    @discardableResult
    public func enqueue(_ frame: [UInt8]) -> Bool {
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard state.ending == nil else { return (false, nil) }
            if state.frames.count >= limits.maxMessages || state.bytes + frame.count > limits.maxBytes {
                state.ending = .overflowed
                state.frames.removeAll()
                state.bytes = 0
                for waiter in state.endWaiters { waiter.resume(returning: .overflowed) }
                state.endWaiters.removeAll()
                defer { state.waiter = nil }
                return (false, state.waiter)
            }
            state.frames.append(frame)
            state.bytes += frame.count
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume()
        return accepted
    }

    /// Everything queued so far, waiting while empty; `nil` once the queue has ended.
    public func next() async -> [[UInt8]]? {
        while true {
            let batch: [[UInt8]]? = state.withLock { state in
                if state.ending == .overflowed { return nil }
                if !state.frames.isEmpty {
                    let batch = Array(state.frames)
                    state.frames.removeAll(keepingCapacity: true)
                    state.bytes = 0
                    return batch
                }
                return state.ending == nil ? [] : nil
            }
            guard let batch else { return nil }
            if !batch.isEmpty { return batch }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if !state.frames.isEmpty || state.ending != nil { return true }
                    state.waiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }

    /// Waits until the queue ends, and says how: the connection watches this to drop a client that stopped
    /// reading even while the writer is stuck behind the socket's back-pressure.
    public func ended() async -> Ending {
        await withCheckedContinuation { continuation in
            let ending = state.withLock { state -> Ending? in
                if let ending = state.ending { return ending }
                state.endWaiters.append(continuation)
                return nil
            }
            if let ending { continuation.resume(returning: ending) }
        }
    }

    /// Ends the queue; the writer drains what is queued and stops.
    public func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.ending == nil { state.ending = .finished }
            for waiter in state.endWaiters { waiter.resume(returning: state.ending ?? .finished) }
            state.endWaiters.removeAll()
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    public var ending: Ending? { state.withLock { $0.ending } }
}
