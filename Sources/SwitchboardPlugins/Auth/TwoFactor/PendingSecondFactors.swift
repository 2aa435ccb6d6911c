import Synchronization
import SwitchboardCore

/// Logins waiting for their one-time password: a session whose password was right for an account that needs
/// a second factor, between `auth.login_ex` answering `OTP_REQUIRED` and its `OTP_TOKEN` continuation.
///
/// The continuation names no user (the account is the one whose password was checked, so a client cannot swap
/// it), and is good for `lifetime`. Bounded: at most `capacity` entries, the oldest dropped first; each needs a
/// correct password, so only someone who has one can fill it.
final class PendingSecondFactors: Sendable {
    struct Pending: Sendable {
        var credentials: Credentials
        var expires: ContinuousClock.Instant
    }

    private let pending = Mutex<[String: Pending]>([:])
    let capacity: Int
    let lifetime: Duration

    init(capacity: Int = 10_000, lifetime: Duration = .seconds(300)) {
        self.capacity = capacity
        self.lifetime = lifetime
    }

    func begin(session: String, credentials: Credentials) {
        let now = ContinuousClock.now
        pending.withLock { pending in
            pending = pending.filter { $0.value.expires > now }
            if pending.count >= capacity, let oldest = pending.min(by: { $0.value.expires < $1.value.expires })?.key {
                pending.removeValue(forKey: oldest)
            }
            pending[session] = Pending(credentials: credentials, expires: now + lifetime)
        }
    }

    /// The session's waiting login, removed; nil when there is none or it expired.
    func take(session: String) -> Pending? {
        pending.withLock { pending in
            guard let entry = pending.removeValue(forKey: session), entry.expires > .now else { return nil }
            return entry
        }
    }

    /// Puts back a login whose code was wrong, with the time it had left: retrying does not extend it.
    func resume(session: String, _ entry: Pending) {
        pending.withLock { $0[session] = entry }
    }

    var count: Int { pending.withLock { $0.count } }
}
