/// Failed logins: a delay, then a lockout of the address and of the account tried.
///
/// Each attempt is admitted before its credentials are checked (`beginLogin`), and counts as a failure until
/// it succeeds: an address may have at most `loginFailures` failures and undecided attempts together, an
/// account `loginFailuresPerUser`. Attempts beyond that wait for those ahead to be decided, so parallel guesses
/// cannot overtake the lockout (60 parallel REST Basic guesses once checked 20 passwords), while parallel
/// valid logins (a script's REST requests) only queue briefly. A success removes its own count and nothing
/// else: one account's login never clears failures against another (4 wrong root passwords and one good login
/// of the attacker's own account, repeated, once tried passwords without end). Failures age out with
/// `loginFailureWindow`, or an administrator clears them (`clearLockout`).
extension ClientGuard {
    /// An attempt `beginLogin` admitted; hand it to `endLogin` once decided.
    public struct LoginAttempt: Sendable {
        let addressKey: String?
        let accountKey: String?
        let username: String?
    }

    /// An address or account with failed logins counted, or locked out.
    public struct Lockout: Sendable, Equatable {
        /// The client address; nil for an account.
        public var address: String?
        /// The account tried; nil for an address.
        public var username: String?
        /// Failed logins within the window.
        public var failures: Int
        /// Seconds it stays refused; nil when it is not locked out.
        public var lockedSeconds: Int64?
    }

    static let accountPrefix = "user:"

    private enum Admission {
        case admitted
        case refused(CallError)
        case wait
    }

    /// Admits a login attempt from `origin` for `username` (nil when the credential names nobody: a token, an
    /// API key), waiting while earlier attempts are undecided and could reach the limit.
    /// - Throws: EACCES when the address or the account is locked out; ECANCELED when the caller is cancelled.
    public func beginLogin(_ origin: SessionOrigin, username: String?) async throws(CallError) -> LoginAttempt {
        guard let address = Self.address(origin) else { return LoginAttempt(addressKey: nil, accountKey: nil, username: username) }
        let accountKey = username.map { Self.accountPrefix + $0 }
        while true {
            let now = ContinuousClock.now
            let admission = state.withLock { state -> Admission in
                if let seconds = Self.lockedSeconds(&state, address, now: now) {
                    return .refused(CallError(Errno.EACCES, "Too many failed logins from \(address): refused for \(seconds) more seconds"))
                }
                if let accountKey, let username, let seconds = Self.lockedSeconds(&state, accountKey, now: now) {
                    return .refused(CallError(Errno.EACCES, "Too many failed logins for \(username): refused for \(seconds) more seconds"))
                }
                guard load(state, address, now: now) < limits.loginFailures,
                      accountKey.map({ load(state, $0, now: now) < limits.loginFailuresPerUser }) ?? true
                else { return .wait }
                state.failures[address, default: Failures()].inFlight += 1
                if let accountKey { state.failures[accountKey, default: Failures()].inFlight += 1 }
                return .admitted
            }
            switch admission {
            case .admitted: return LoginAttempt(addressKey: address, accountKey: accountKey, username: username)
            case .refused(let error): throw error
            case .wait:
                do {
                    try await Task.sleep(for: .milliseconds(20))
                } catch {
                    throw CallError(Errno.ECANCELED, "Call cancelled")
                }
            }
        }
    }

    /// Decides an attempt: a failure is counted against its address and account (locking them at the limit,
    /// which is logged) and answered only after the failure delay; a success only removes its own count.
    public func endLogin(_ attempt: LoginAttempt, succeeded: Bool) async {
        guard let address = attempt.addressKey else { return }
        let now = ContinuousClock.now
        let locked = state.withLock { state -> [String] in
            var locked: [String] = []
            for (key, limit) in [(address, limits.loginFailures), (attempt.accountKey, limits.loginFailuresPerUser)] {
                guard let key, var entry = state.failures[key] else { continue }
                entry.inFlight = max(0, entry.inFlight - 1)
                if !succeeded {
                    entry.times = entry.times.filter { now - $0 < limits.loginFailureWindow } + [now]
                    if entry.times.count >= limit, entry.lockedUntil == nil {
                        entry.lockedUntil = now + limits.lockout
                        locked.append(key)
                    }
                }
                state.failures[key] = entry.times.isEmpty && entry.inFlight == 0 && entry.lockedUntil == nil ? nil : entry
            }
            if state.failures.count > limits.maxTracked {
                Self.forgetOldFailures(&state.failures, now: now, window: limits.loginFailureWindow, keep: limits.maxTracked)
            }
            return locked
        }
        for key in locked {
            let isAccount = key.hasPrefix(Self.accountPrefix)
            logger.warning(isAccount ? "account locked out after failed logins" : "address locked out after failed logins", metadata: [
                "address": .string(address), "username": .string(attempt.username ?? ""),
                "failures": .stringConvertible(isAccount ? limits.loginFailuresPerUser : limits.loginFailures),
                "lockout_seconds": .stringConvertible(limits.lockout.components.seconds),
            ])
        }
        if !succeeded { try? await Task.sleep(for: limits.loginFailureDelay) }
    }

    /// Failures in the window plus attempts undecided.
    private func load(_ state: State, _ key: String, now: ContinuousClock.Instant) -> Int {
        guard let entry = state.failures[key] else { return 0 }
        return entry.times.filter { now - $0 < limits.loginFailureWindow }.count + entry.inFlight
    }

    /// Seconds left of a lockout in force; an expired one is forgotten with its failures.
    private static func lockedSeconds(_ state: inout State, _ key: String, now: ContinuousClock.Instant) -> Int64? {
        guard let until = state.failures[key]?.lockedUntil else { return nil }
        if until <= now {
            state.failures[key]?.lockedUntil = nil
            state.failures[key]?.times = []
            return nil
        }
        return secondsLeft(until - now)
    }

    /// Whole seconds, rounded up: a lockout just begun reads its full length.
    static func secondsLeft(_ duration: Duration) -> Int64 {
        max(1, duration.components.seconds + (duration.components.attoseconds > 0 ? 1 : 0))
    }

    /// Every address and account with failed logins in the window or a lockout in force, locked out first.
    public var lockouts: [Lockout] {
        let now = ContinuousClock.now
        return state.withLock { state in
            state.failures.compactMap { key, entry -> Lockout? in
                let failures = entry.times.filter { now - $0 < limits.loginFailureWindow }.count
                let locked = entry.lockedUntil.flatMap { $0 > now ? Self.secondsLeft($0 - now) : nil }
                guard failures > 0 || locked != nil else { return nil }
                let account = key.hasPrefix(Self.accountPrefix) ? String(key.dropFirst(Self.accountPrefix.count)) : nil
                return Lockout(address: account == nil ? key : nil, username: account, failures: failures, lockedSeconds: locked)
            }
        }.sorted { ($0.lockedSeconds != nil ? 0 : 1, $0.address ?? "", $0.username ?? "") < ($1.lockedSeconds != nil ? 0 : 1, $1.address ?? "", $1.username ?? "") }
    }

    /// Lifts the lockout of an address (forgetting its failures and unauthenticated calls) or of an account
    /// (its failures): it may log in again at once. False when nothing was held against it.
    @discardableResult
    public func clearLockout(_ target: String) -> Bool {
        state.withLock { state in
            let suffix = " " + target
            let calls = state.calls.keys.filter { $0.hasSuffix(suffix) }
            for key in calls { state.calls.removeValue(forKey: key) }
            let address = state.failures.removeValue(forKey: target) != nil
            let account = state.failures.removeValue(forKey: Self.accountPrefix + target) != nil
            return address || account || !calls.isEmpty
        }
    }

    static func forgetOldFailures(_ failures: inout [String: Failures], now: ContinuousClock.Instant, window: Duration, keep: Int) {
        failures = failures.filter { entry in
            if entry.value.inFlight > 0 { return true }
            if let until = entry.value.lockedUntil { return until > now }
            return entry.value.times.contains { now - $0 < window }
        }
        if failures.count > keep, let median = failures.values.compactMap(\.times.last).sorted().dropFirst(failures.count / 2).first {
            failures = failures.filter { $0.value.inFlight > 0 || ($0.value.times.last ?? now) >= median }
        }
    }
}
