import Logging
import OrderedCollections
import Synchronization

/// Operator alerts: a warning in the log and an `added` event on `core.alerts`, at most one per kind of alert
/// per `interval`, so a condition that persists is reported, not repeated thousands of times.
///
/// Raised today by retention, when it drops records younger than the retention period because their count
/// passed the limit: the history then covers less time than the operator configured, which is what an attacker
/// erasing a trail by volume looks like.
public final class Alerts: Sendable {
    public static let eventName = "core.alerts"

    private struct State {
        var lastRaised: [String: ContinuousClock.Instant] = [:]
        var sequence: Int64 = 0
    }

    private let events: EventBus
    private let logger: Logger
    private let interval: Duration
    private let state = Mutex(State())

    public init(events: EventBus, logger: Logger, interval: Duration = .seconds(600)) {
        self.events = events
        self.logger = logger
        self.interval = interval
    }

    /// Raises the alert `kind` unless it was raised within the interval; returns whether it was.
    @discardableResult
    public func raise(_ kind: String, _ message: String, details: JSONObject = [:]) -> Bool {
        let now = ContinuousClock.now
        let sequence = state.withLock { state -> Int64? in
            if let last = state.lastRaised[kind], now - last < interval { return nil }
            state.lastRaised[kind] = now
            state.sequence += 1
            return state.sequence
        }
        guard let sequence else { return false }
        var metadata: Logger.Metadata = ["alert": .string(kind)]
        for (key, value) in details { metadata[key] = .string(value.stringValue ?? value.encodedString()) }
        logger.warning("\(message)", metadata: metadata)
        var fields = details
        fields["kind"] = .string(kind)
        fields["message"] = .string(message)
        fields["time_ms"] = .int(Session.wallClockMillis)
        events.publish(Event(name: Self.eventName, kind: .added, id: .int(sequence), fields: .object(fields)))
        return true
    }
}
