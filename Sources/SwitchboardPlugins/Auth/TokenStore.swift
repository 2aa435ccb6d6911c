import Synchronization
import SwitchboardCore

/// Short-lived authentication tokens (`auth.generate_token`), kept in memory as middlewared does:
/// a restart invalidates them all.
final class TokenStore: Sendable {
    struct Token: Sendable {
        var credentials: Credentials
        var expires: ContinuousClock.Instant
        var singleUse: Bool
        /// The origin the token must be used from, when `match_origin` was asked for.
        var origin: SessionOrigin?
        var attributes: JSON
        /// A single-use token that was used: kept until it expires, so a second use is told why it fails.
        var used = false
    }

    enum Refusal: Error, Equatable {
        case unknown
        case expired
        case used
        case wrongOrigin

        /// What a client is told, so it can tell a stale token from a wrong one.
        var reason: String {
            switch self {
            case .unknown: return "Invalid token"
            case .expired: return "Token expired"
            case .used: return "Token already used"
            case .wrongOrigin: return "Token not valid from this address"
            }
        }
    }

    private let tokens = Mutex<[String: Token]>([:])
    /// A cap so that a client generating tokens in a loop cannot grow memory without bound.
    let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    func issue(_ token: Token) -> String {
        let value = Self.randomToken()
        tokens.withLock { tokens in
            if tokens.count >= capacity {
                let now = ContinuousClock.now
                tokens = tokens.filter { $0.value.expires > now }
                if tokens.count >= capacity, let oldest = tokens.min(by: { $0.value.expires < $1.value.expires }) {
                    tokens.removeValue(forKey: oldest.key)
                }
            }
            tokens[value] = token
        }
        return value
    }

    /// The credentials a token grants, consuming it when single-use.
    func redeem(_ value: String, origin: SessionOrigin) -> Result<Credentials, Refusal> {
        tokens.withLock { tokens in
            guard var token = tokens[value] else { return .failure(.unknown) }
            if token.expires <= .now {
                tokens.removeValue(forKey: value)
                return .failure(.expired)
            }
            if token.used { return .failure(.used) }
            if let required = token.origin, !Self.sameOrigin(required, origin) { return .failure(.wrongOrigin) }
            if token.singleUse {
                token.used = true
                tokens[value] = token
            }
            return .success(token.credentials)
        }
    }

    /// Same client host (a new connection has a new port) or the same local peer.
    static func sameOrigin(_ a: SessionOrigin, _ b: SessionOrigin) -> Bool {
        switch (a, b) {
        case (.tcp(let x, _), .tcp(let y, _)): return x == y
        case (.unix(let u1, _, _), .unix(let u2, _, _)): return u1 == u2
        case (.internal, .internal): return true
        default: return false
        }
    }

    static func randomToken() -> String {
        // Alphanumeric only: a token starting with "-" would read as an option on a command line.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var rng = SystemRandomNumberGenerator()
        return String((0..<64).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
    }
}
