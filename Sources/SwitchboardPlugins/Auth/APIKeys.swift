import Crypto
import SwitchboardCore

/// API keys: the `api_keys` table, how a key is made, and how one presented at login is checked.
///
/// A key reads `<id>-<secret>`: the id finds the row, the secret is stored only as its SHA-256. The secret is
/// 64 random alphanumerics (about 380 bits), so a slow password hash would add nothing but latency to every
/// login; what protects it is that it cannot be guessed, and that it is shown once.
enum APIKeys {
    static let definition = TableDefinition("api_keys", columns: [
        .init("name", .text, unique: true, nullable: false),
        .init("username", .text, nullable: false),
        .init("keyhash", .text, default: ""),
        .init("created_ms", .integer),
        .init("expires_ms", .integer),
        .init("revoked", .boolean, default: false),
        .init("revoked_reason", .text),
        .init("last_used_ms", .integer),
    ])

    /// Stored columns clients never see (the hash) or see reshaped as `{"$date": ms}` fields.
    static let hiddenColumns: Set<String> = ["keyhash", "created_ms", "expires_ms", "last_used_ms"]

    /// A new secret and what is stored of it.
    static func makeSecret() -> (secret: String, hash: String) {
        let secret = TokenStore.randomToken()
        return (secret, hash(secret))
    }

    static func hash(_ secret: String) -> String {
        let digest = SHA256.hash(data: Array(secret.utf8))
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Splits `<id>-<secret>`; nil when the text cannot be a key.
    static func parse(_ key: String) -> (id: Int64, secret: String)? {
        guard let dash = key.firstIndex(of: "-"), let id = Int64(key[..<dash]), id > 0 else { return nil }
        let secret = String(key[key.index(after: dash)...])
        let alphanumeric: (UInt8) -> Bool = { (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }
        guard secret.utf8.count == 64, secret.utf8.allSatisfy(alphanumeric) else { return nil }
        return (id, secret)
    }

    /// Why a key is refused, told to the client.
    enum Refusal: Error, Equatable {
        case invalid
        case revoked
        case expired
        case ownerUnavailable
        /// Sent in the clear from a remote address: refused, never revoked (a key silently revoked by a
        /// misconfigured client is a key its owner only learns about when the next backup fails).
        case insecureTransport

        var reason: String {
            switch self {
            case .invalid: return "Invalid API key"
            case .revoked: return "API key revoked"
            case .expired: return "API key expired"
            case .ownerUnavailable: return "The API key's user does not exist or is locked"
            case .insecureTransport:
                return "API keys are refused over an unencrypted connection from a remote address: connect with wss:// or https://, or over the local socket"
            }
        }
    }

    /// Checks a presented key. `now` is milliseconds since the epoch.
    static func verify(_ key: String, datastore: any Datastore, now: Int64) async throws -> Result<(Credentials, id: Int64), Refusal> {
        guard let (id, secret) = parse(key), let row = try await datastore.get(definition, id: id) else {
            // Same work as a real check, so a miss does not reveal which ids exist.
            _ = hash(key).constantTimeEquals(String(repeating: "0", count: 64))
            return .failure(.invalid)
        }
        guard case .string(let stored) = row["keyhash"], stored.utf8.count == 64, hash(secret).constantTimeEquals(stored) else {
            return .failure(.invalid)
        }
        if row["revoked"]?.boolValue == true { return .failure(.revoked) }
        if let expires = row["expires_ms"]?.intValue, expires <= now { return .failure(.expired) }
        guard let owner = try await UserTable.find(datastore, username: row["username"]?.stringValue ?? ""),
              owner["locked"]?.boolValue != true
        else { return .failure(.ownerUnavailable) }
        return .success((UserTable.credentials(owner, mechanism: .apiKeyPlain), id))
    }

    /// Client row: dates as `{"$date": ms}`, hidden columns gone (CRUDService drops them after this).
    static func extend(_ row: JSONObject) -> JSONObject {
        var row = row
        row["created_at"] = date(row["created_ms"])
        row["expires_at"] = date(row["expires_ms"])
        row["last_used_at"] = date(row["last_used_ms"])
        row["revoked"] = .bool(row["revoked"]?.boolValue ?? false)
        return row
    }

    static func date(_ millis: JSON?) -> JSON {
        guard let millis = millis?.intValue else { return .null }
        return ["$date": .int(millis)]
    }

    /// `{"$date": ms}` or null from a client's `expires_at`.
    static func millis(_ date: JSON?) -> JSON {
        guard let value = date?["$date"]?.intValue else { return .null }
        return .int(value)
    }
}
