import Synchronization

/// Paces one job's progress events: at most one per `interval`, the latest progress always delivered (a report
/// that comes too soon is held and sent when the interval is up), and nothing after the job's final event.
///
/// A job that copies 10,000 files reports 10,000 steps in seconds; sent one event each, they outrun every
/// subscriber's queue, and no UI redraws faster than a few times a second anyway. State changes are never
/// paced: the final record (which carries the latest progress) goes out at once after `end`.
///
/// Every progress event that may race the final one (a held report sent by its timer) is published under this
/// pacer's lock, and `end` takes it, so a held report can never reach a client after the final state. Publishing only
/// queues frames and never blocks, so the lock is held briefly; an event handler must not report progress of
/// the same job synchronously.
final class ProgressPacer: Sendable {
    struct State {
        var lastSent: ContinuousClock.Instant?
        /// The newest report not sent yet.
        var held: JobRecord?
        /// A timer to send `held` is on its way.
        var armed = false
        /// The newest report seen: reports from concurrent child tasks may arrive out of order.
        var version: UInt64 = 0
        var ended = false
    }

    let interval: Duration
    private let state = Mutex(State())

    init(interval: Duration) {
        self.interval = interval
    }

    /// Publishes `record` now, or holds it if the last event was sent less than `interval` ago.
    /// - Returns: when to call `flush`, if a timer must be started for it.
    func report(_ record: JobRecord, version: UInt64, publish: (JobRecord) -> Void) -> ContinuousClock.Instant? {
        state.withLock { state -> ContinuousClock.Instant? in
            guard !state.ended, version > state.version else { return nil }
            state.version = version
            let now = ContinuousClock.now
            if let last = state.lastSent, now - last < interval {
                state.held = record
                guard !state.armed else { return nil }
                state.armed = true
                return last + interval
            }
            state.held = nil
            publish(record)
            // Stamped once sent, so that the next event starts a whole interval after this one reached everyone.
            state.lastSent = .now
            return nil
        }
    }

    /// The timer's end: sends the held report, unless the job has ended meanwhile.
    /// - Returns: a later time to call again, when a report was sent since the timer was set (its interval is
    ///   not up yet, and a report held after it must wait for it).
    func flush(publish: (JobRecord) -> Void) -> ContinuousClock.Instant? {
        state.withLock { state -> ContinuousClock.Instant? in
            guard !state.ended, let held = state.held else {
                state.armed = false
                return nil
            }
            let now = ContinuousClock.now
            if let last = state.lastSent, now - last < interval { return last + interval }
            state.armed = false
            state.held = nil
            publish(held)
            state.lastSent = .now
            return nil
        }
    }

    /// The job has ended: no report, held or new, is sent after this returns, so the final event, published
    /// once the final row is stored, is the job's last.
    func end() {
        state.withLock { state in
            state.ended = true
            state.held = nil
        }
    }
}
