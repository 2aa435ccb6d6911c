import HummingbirdBcrypt
import SwitchboardCore

/// The `users` table and the look-ups the auth plugin makes in it.
enum UserTable {
    static let definition = TableDefinition("users", columns: [
        .init("username", .text, unique: true, nullable: false),
        .init("full_name", .text, default: ""),
        .init("email", .text),
        .init("password_hash", .text),
        .init("roles", .json, default: []),
        .init("locked", .boolean, default: false),
        .init("created", .integer),
        // TOTP (the two-factor plugin): the secret sealed by SecretSealer, never returned or filterable.
        .init("twofactor_secret", .text),
        .init("twofactor_digits", .integer, default: 6),
        .init("twofactor_interval", .integer, default: 30),
    ])

    /// Columns no query returns or filters on.
    static let hiddenColumns: Set<String> = ["password_hash", "twofactor_secret", "twofactor_digits", "twofactor_interval"]

    static func find(_ datastore: any Datastore, username: String) async throws -> JSONObject? {
        let rows = try await datastore.query(
            definition, filters: [.equal("username", .string(username))],
            options: QueryOptions())
        return rows[0]?.objectValue
    }

    /// The hash a password check of an account that does not exist (or has no password) is verified against,
    /// so that the check costs what a real one does: the newest account's hash, made at the bcrypt cost in use
    /// now. A fixed decoy at cost 10 made a miss four times faster than a hit at cost 12, naming the accounts
    /// that exist. With no account holding a password there is nothing to reveal, and a fixed decoy serves.
    static func decoyHash(_ datastore: any Datastore) async throws -> String {
        let (filters, newest) = try QueryArguments.parse([[["password_hash", "!=", ""], ["password_hash", "!=", nil]], ["order_by": ["-id"], "limit": 1]])
        let rows = try await datastore.query(definition, filters: filters, options: newest)
        if let hash = rows[0]?["password_hash"]?.stringValue, !hash.isEmpty { return hash }
        return fallbackDecoy
    }

    /// Used only while no account has a password.
    static let fallbackDecoy = Bcrypt.hash(TokenStore.randomToken(), cost: 10)

    static func credentials(_ row: JSONObject, mechanism: Credentials.Mechanism) -> Credentials {
        Credentials(
            username: row["username"]?.stringValue ?? "",
            userID: row["id"]?.intValue,
            roles: Set((row["roles"]?.arrayValue ?? []).compactMap(\.stringValue)),
            mechanism: mechanism)
    }
}
