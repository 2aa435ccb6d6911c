import Synchronization

/// Named gates that test methods and jobs wait on until the test opens them.
///
/// A job that sleeps 400 ms and is expected to still run when the test looks at it is a bet on the machine's
/// load; a job that waits on a gate runs exactly until the test has seen what it asserts. A gate once opened
/// stays open, so a waiter that arrives late passes at once. Waiting honours task cancellation (an abort). Each
/// test daemon has its own gates; waiters are bounded by the jobs and calls a test starts.
final class Gates: Sendable {
    private struct State {
        var open: Set<String> = []
        var waiters: [String: [Int: CheckedContinuation<Void, any Error>]] = [:]
        var cancelled: Set<Int> = []
        var nextTicket = 0
    }
    private let state = Mutex(State())

    /// Returns once `gate` is open; throws `CancellationError` when the waiting task is cancelled first.
    func wait(_ gate: String) async throws {
        let ticket = state.withLock { state -> Int in
            state.nextTicket += 1
            return state.nextTicket
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resume: Result<Void, any Error>? = state.withLock { state in
                    if state.cancelled.remove(ticket) != nil { return .failure(CancellationError()) }
                    if state.open.contains(gate) { return .success(()) }
                    state.waiters[gate, default: [:]][ticket] = continuation
                    return nil
                }
                if let resume { continuation.resume(with: resume) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                if let waiter = state.waiters[gate]?.removeValue(forKey: ticket) { return waiter }
                state.cancelled.insert(ticket)
                return nil
            }
            waiter?.resume(throwing: CancellationError())
        }
        // A ticket cancelled after it was resumed normally leaves nothing behind.
        _ = state.withLock { $0.cancelled.remove(ticket) }
    }

    /// Opens `gate`: every waiter passes, and so will every later one.
    func open(_ gate: String) {
        let waiters = state.withLock { state in
            state.open.insert(gate)
            return state.waiters.removeValue(forKey: gate) ?? [:]
        }
        for waiter in waiters.values { waiter.resume() }
    }

    /// How many are waiting on `gate` now.
    func waiting(on gate: String) -> Int {
        state.withLock { $0.waiters[gate]?.count ?? 0 }
    }
}
