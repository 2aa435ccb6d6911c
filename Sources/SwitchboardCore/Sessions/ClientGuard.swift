import Logging
import Synchronization

/// Abuse resistance by client address, shared by every dialect: a rate limit on the calls of unauthenticated
/// sessions (per method and address), and for failed logins a delay and then a lockout of the address and of
/// the account tried (`ClientGuard+Logins.swift`). Local-socket clients are exempt from both: they are the
/// machine's own users, and the way back in.
///
/// Only what an attacker does is counted: a call that logs its session in is given back to the rate limit
/// (`refundUnauthenticated`), so a script that logs in with valid credentials on every request (REST with Basic
/// auth, a shell loop of `switchboard call -U -P`) is never refused. An administrator lifts a lockout with
/// `clearLockout` (`auth.lockout.clear`).
public final class ClientGuard: Sendable {
    /// The defaults are middlewared's (rate limit) and sysadm's (lockout).
    public struct Limits: Sendable, Equatable {
        /// Calls an unauthenticated session may make per method and address within `unauthenticatedWindow`.
        public var unauthenticatedCalls: Int = 20
        public var unauthenticatedWindow: Duration = .seconds(60)
        /// How long a failed login takes to answer, so passwords cannot be tried quickly.
        public var loginFailureDelay: Duration = .seconds(1)
        /// Failed logins from one address within `loginFailureWindow` that lock it out.
        public var loginFailures: Int = 5
        /// Failed logins against one username, from any remote address, that lock the account out over TCP
        /// (guesses spread across many addresses).
        public var loginFailuresPerUser: Int = 20
        public var loginFailureWindow: Duration = .seconds(600)
        /// How long a locked-out address is refused.
        public var lockout: Duration = .seconds(3600)
        /// Calls refused for lack of a role that one user may make within `refusedCallWindow`; beyond, every
        /// call of that user over TCP is refused (EBUSY) until the window ends.
        public var refusedCalls: Int = 100
        public var refusedCallWindow: Duration = .seconds(60)
        /// Addresses and method-address pairs tracked at most; the oldest are forgotten beyond it, so a flood of
        /// source addresses cannot grow the daemon without bound.
        public var maxTracked: Int = 100_000
        /// Whether a plain (non-TLS) loopback connection may carry secrets meant only for secure transports
        /// (API keys). Turn it off when a reverse proxy on the host relays remote clients over loopback.
        public var plainLoopbackIsSecure = true

        public init() {}
    }

    struct Window {
        var start: ContinuousClock.Instant
        var count: Int
    }

    struct Failures {
        var times: [ContinuousClock.Instant] = []
        var lockedUntil: ContinuousClock.Instant?
        /// Logins admitted and not yet decided: they count as failures until they succeed.
        var inFlight = 0
    }

    struct State {
        var calls: [String: Window] = [:]
        var failures: [String: Failures] = [:]
    }

    public let limits: Limits
    let logger: Logger
    let state = Mutex(State())
    /// When a call was last refused for lack of a role (monotonic nanoseconds; 0: never): every authorized call
    /// asks `checkRefusals`, which has nothing to look up unless a refusal is recent.
    private let lastRefusal = Atomic<Int64>(0)

    public init(limits: Limits = Limits(), logger: Logger) {
        self.limits = limits
        self.logger = logger
    }

    /// Whether `session`'s transport keeps a secret from the network: TLS, the local socket, or (unless turned
    /// off) loopback TCP.
    public func isSecureTransport(_ session: Session) -> Bool {
        session.encrypted || session.origin.isLocal || (limits.plainLoopbackIsSecure && session.origin.isLoopback)
    }

    /// The address a limit is kept for, or nil for an exempt (local) client.
    static func address(_ origin: SessionOrigin) -> String? {
        if case .tcp(let address, _) = origin { return address }
        return nil
    }

    /// Counts a call of an unauthenticated session.
    /// - Throws: EBUSY when the address has used up its calls of this method for the window.
    public func admitUnauthenticated(method: String, origin: SessionOrigin) throws(CallError) {
        guard let address = Self.address(origin) else { return }
        let key = method + " " + address
        let now = ContinuousClock.now
        let admitted = state.withLock { state -> Bool in
            var window = state.calls[key] ?? Window(start: now, count: 0)
            if now - window.start >= limits.unauthenticatedWindow { window = Window(start: now, count: 0) }
            window.count += 1
            state.calls[key] = window
            if state.calls.count > limits.maxTracked { Self.forgetExpired(&state.calls, now: now, window: limits.unauthenticatedWindow, keep: limits.maxTracked) }
            return window.count <= limits.unauthenticatedCalls
        }
        if !admitted {
            throw CallError.busy("Rate limit exceeded: at most \(limits.unauthenticatedCalls) unauthenticated calls of \(method) per \(limits.unauthenticatedWindow.components.seconds) s from one address")
        }
    }

    /// Gives back the call `admitUnauthenticated` counted, when it logged its session in: a login with valid
    /// credentials is not what the rate limit is for.
    public func refundUnauthenticated(method: String, origin: SessionOrigin) {
        guard let address = Self.address(origin) else { return }
        let key = method + " " + address
        state.withLock { state in
            guard let window = state.calls[key] else { return }
            if window.count <= 1 {
                state.calls.removeValue(forKey: key)
            } else {
                state.calls[key]?.count -= 1
            }
        }
    }

    /// Refuses every call of a user who had too many calls refused for lack of a role within the window: like
    /// failed logins, refused calls are what probing looks like, and each one costs an audit record.
    /// - Throws: EBUSY with the time left.
    public func checkRefusals(_ credentials: Credentials, origin: SessionOrigin) throws(CallError) {
        let last = lastRefusal.load(ordering: .relaxed)
        guard last != 0, Session.monotonicNow - last < limits.refusedCallWindow.nanoseconds else { return }
        guard Self.address(origin) != nil else { return }
        let key = "refused " + credentials.username
        let now = ContinuousClock.now
        let left = state.withLock { state -> Duration? in
            guard let window = state.calls[key], window.count >= limits.refusedCalls else { return nil }
            let left = limits.refusedCallWindow - (now - window.start)
            return left > .zero ? left : nil
        }
        if let left {
            throw CallError.busy("Too many refused calls by \(credentials.username): at most \(limits.refusedCalls) per "
                                 + "\(limits.refusedCallWindow.components.seconds) s; calls are refused for \(ClientGuard.secondsLeft(left)) more seconds")
        }
    }

    /// Counts a call refused for lack of a role.
    public func countRefusal(_ credentials: Credentials, origin: SessionOrigin) {
        guard Self.address(origin) != nil else { return }
        lastRefusal.store(Session.monotonicNow, ordering: .relaxed)
        let key = "refused " + credentials.username
        let now = ContinuousClock.now
        state.withLock { state in
            var window = state.calls[key] ?? Window(start: now, count: 0)
            if now - window.start >= limits.refusedCallWindow { window = Window(start: now, count: 0) }
            window.count += 1
            state.calls[key] = window
        }
    }

    /// Entries tracked now (for tests and the memory bound).
    public var tracked: Int { state.withLock { $0.calls.count + $0.failures.count } }

    static func forgetExpired(_ calls: inout [String: Window], now: ContinuousClock.Instant, window: Duration, keep: Int) {
        calls = calls.filter { now - $0.value.start < window }
        // Still too many live windows (a flood from many addresses within one window): forget the oldest half.
        if calls.count > keep, let median = calls.values.map(\.start).sorted().dropFirst(calls.count / 2).first {
            calls = calls.filter { $0.value.start >= median }
        }
    }
}
