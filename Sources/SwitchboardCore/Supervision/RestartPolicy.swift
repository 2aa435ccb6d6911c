/// When to restart something supervised that stopped unexpectedly: external plugins now, workers and event
/// sources later (DESIGN.md's *restart policy*).
///
/// Delays grow exponentially from `initialDelay` up to `maxDelay`, each with up to `jitter` of itself added at
/// random so that plugins that died together do not come back in lock step. A unit that ran for
/// `stablePeriod` before failing starts again from `initialDelay`. More than `intensity` failures within
/// `window` quarantines it: it is then retried every `maxDelay`, never given up, until it once runs stable.
///
/// A value type with no clock of its own: the caller passes the instants, so tests drive it exactly.
public struct RestartPolicy: Sendable, Equatable {
    public var initialDelay: Duration
    public var maxDelay: Duration
    /// The largest random share of a delay added to it (0.2: up to 20 % longer).
    public var jitter: Double
    /// Run this long and a failure counts as the first of a new series.
    public var stablePeriod: Duration
    /// Failures allowed within `window` before quarantine (OTP's intensity and period).
    public var intensity: Int
    public var window: Duration

    public init(initialDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(30), jitter: Double = 0.2,
                stablePeriod: Duration = .seconds(60), intensity: Int = 5, window: Duration = .seconds(60)) {
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.jitter = jitter
        self.stablePeriod = stablePeriod
        self.intensity = intensity
        self.window = window
    }

    /// What to do after a failure.
    public enum Decision: Sendable, Equatable {
        /// Restart after the delay.
        case restart(after: Duration)
        /// Too many failures in the window: quarantined, retried after the delay (`maxDelay`).
        case quarantine(retryAfter: Duration)
    }

    /// The failures of one supervised unit. Bounded: it keeps at most `intensity + 1` instants.
    public struct Record: Sendable, Equatable {
        /// Failures in the current series, for the backoff exponent.
        public private(set) var consecutive = 0
        /// Instants of recent failures, oldest first, within the policy's window.
        var recent: [ContinuousClock.Instant] = []
        public private(set) var quarantined = false
        /// Every restart decided since the unit was first started, for `plugin.query` and metrics.
        public private(set) var restarts = 0

        public init() {}

        /// Records a failure at `now` of a run that started at `started`, and decides.
        /// - Parameter random: a number in 0..<1 for the jitter (injected so that tests are exact).
        public mutating func failed(at now: ContinuousClock.Instant, startedAt started: ContinuousClock.Instant,
                                    policy: RestartPolicy, random: Double = Double.random(in: 0..<1)) -> Decision {
            if started.duration(to: now) >= policy.stablePeriod {
                consecutive = 0
                quarantined = false
            }
            consecutive += 1
            restarts += 1
            recent.append(now)
            recent.removeAll { $0.duration(to: now) > policy.window }
            if recent.count > policy.intensity + 1 { recent.removeFirst(recent.count - policy.intensity - 1) }
            if recent.count > policy.intensity { quarantined = true }
            if quarantined { return .quarantine(retryAfter: policy.maxDelay) }
            return .restart(after: policy.delay(attempt: consecutive, random: random))
        }
    }

    /// The delay before restart number `attempt` (1 for the first), jitter included, never over `maxDelay`.
    public func delay(attempt: Int, random: Double) -> Duration {
        let base = initialDelay.inSeconds
        let cap = maxDelay.inSeconds
        let grown = min(cap, base * Double(1 << min(max(attempt - 1, 0), 30)))
        let jittered = min(cap, grown * (1 + max(0, jitter) * min(max(random, 0), 1)))
        return .nanoseconds(Int64(jittered * 1e9))
    }
}
