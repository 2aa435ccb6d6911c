/// Waiting for work that may never finish (a blocked event loop's task, a worker that ignores cancellation),
/// for at most a bound: the first of the work's end and a timer wins, and the work is left to end on its own
/// (waiting on a future or on another task cannot be cut short).
package enum Deadline {
    /// Whether `work` finished without throwing within `bound`.
    package static func finishes(within bound: Duration, _ work: @escaping @Sendable () async throws -> Void) async -> Bool {
        let first = OneShot<Bool>()
        let worker = Task { first.resolve((try? await work()) != nil) }
        let timer = Task {
            try? await Task.sleep(for: bound)
            first.resolve(false)
        }
        let finished = await first.wait() ?? false
        timer.cancel()
        _ = worker
        return finished
    }
}
