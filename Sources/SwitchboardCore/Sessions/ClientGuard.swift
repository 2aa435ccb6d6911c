import Logging
import Synchronization

/// Abuse resistance by client address, shared by every dialect: a rate limit on the calls of unauthenticated
/// sessions (per method and address), and for failed logins a delay and then a lockout of the address.
/// Local-socket clients are exempt from both: they are the machine's own users, and the way back in.
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
        public var loginFailureWindow: Duration = .seconds(600)
        /// How long a locked-out address is refused.
        public var lockout: Duration = .seconds(3600)
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
    }

    struct State {
        var calls: [String: Window] = [:]
        var failures: [String: Failures] = [:]
    }

    public let limits: Limits
    private let logger: Logger
    private let state = Mutex(State())

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

    /// An address with failed logins counted, or locked out.
    public struct Lockout: Sendable, Equatable {
        public var address: String
        /// Failed logins within the window.
        public var failures: Int
        /// Seconds the address stays refused; nil when it is not locked out.
        public var lockedSeconds: Int64?
    }

    /// Every address with failed logins in the window or a lockout in force, locked out first.
    public var lockouts: [Lockout] {
        let now = ContinuousClock.now
        return state.withLock { state in
            state.failures.compactMap { address, entry -> Lockout? in
                let failures = entry.times.filter { now - $0 < limits.loginFailureWindow }.count
                let locked = entry.lockedUntil.flatMap { $0 > now ? max(1, ($0 - now).components.seconds) : nil }
                guard failures > 0 || locked != nil else { return nil }
                return Lockout(address: address, failures: failures, lockedSeconds: locked)
            }
        }.sorted { ($0.lockedSeconds != nil ? 0 : 1, $0.address) < ($1.lockedSeconds != nil ? 0 : 1, $1.address) }
    }

    /// Lifts the lockout of an address and forgets its failures (and its unauthenticated calls): it may log in
    /// again at once. False when nothing was held against it.
    @discardableResult
    public func clearLockout(address: String) -> Bool {
        state.withLock { state in
            let suffix = " " + address
            let calls = state.calls.keys.filter { $0.hasSuffix(suffix) }
            for key in calls { state.calls.removeValue(forKey: key) }
            return state.failures.removeValue(forKey: address) != nil || !calls.isEmpty
        }
    }

    /// Refuses a login attempt from a locked-out address.
    /// - Throws: EACCES naming how long the address stays refused.
    public func checkLockout(_ origin: SessionOrigin) throws(CallError) {
        guard let address = Self.address(origin) else { return }
        let now = ContinuousClock.now
        let until = state.withLock { state -> ContinuousClock.Instant? in
            guard let until = state.failures[address]?.lockedUntil else { return nil }
            if until <= now {
                state.failures[address] = nil
                return nil
            }
            return until
        }
        if let until {
            let seconds = max(1, (until - now).components.seconds)
            throw CallError(Errno.EACCES, "Too many failed logins from \(address): refused for \(seconds) more seconds")
        }
    }

    /// Records a failed login and waits out the failure delay; the failure that reaches the limit locks the
    /// address out (and is logged).
    public func loginFailed(_ origin: SessionOrigin, username: String) async {
        guard let address = Self.address(origin) else { return }
        let now = ContinuousClock.now
        let lockedNow = state.withLock { state -> Bool in
            var entry = state.failures[address] ?? Failures()
            entry.times = entry.times.filter { now - $0 < limits.loginFailureWindow } + [now]
            var locked = false
            if entry.times.count >= limits.loginFailures, entry.lockedUntil == nil {
                entry.lockedUntil = now + limits.lockout
                locked = true
            }
            state.failures[address] = entry
            if state.failures.count > limits.maxTracked { Self.forgetOldFailures(&state.failures, now: now, window: limits.loginFailureWindow, keep: limits.maxTracked) }
            return locked
        }
        if lockedNow {
            logger.warning("address locked out after failed logins", metadata: [
                "address": .string(address), "username": .string(username), "failures": .stringConvertible(limits.loginFailures),
                "lockout_seconds": .stringConvertible(limits.lockout.components.seconds),
            ])
        }
        try? await Task.sleep(for: limits.loginFailureDelay)
    }

    /// A successful login clears the address's failures.
    public func loginSucceeded(_ origin: SessionOrigin) {
        guard let address = Self.address(origin) else { return }
        state.withLock { _ = $0.failures.removeValue(forKey: address) }
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

    static func forgetOldFailures(_ failures: inout [String: Failures], now: ContinuousClock.Instant, window: Duration, keep: Int) {
        failures = failures.filter { entry in
            if let until = entry.value.lockedUntil { return until > now }
            return entry.value.times.contains { now - $0 < window }
        }
        if failures.count > keep, let median = failures.values.compactMap(\.times.last).sorted().dropFirst(failures.count / 2).first {
            failures = failures.filter { ($0.value.times.last ?? now) >= median }
        }
    }
}
