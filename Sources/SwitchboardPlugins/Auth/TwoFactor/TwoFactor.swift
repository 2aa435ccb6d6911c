import SwitchboardCore

/// The second factor of a password login: whether an account needs one, and accepting each code only once.
///
/// An account needs a code when `auth.twofactor.config` is enabled and the account has a secret
/// (`user.renew_2fa_secret`), as in middlewared. A code is accepted for a time step newer than the newest one
/// the account has used: the step is inserted under a unique key, so two logins racing with one code (on two
/// cluster nodes too) cannot both win, and a code from before one already used is refused as well.
struct TwoFactor: Sendable {
    let datastore: any Datastore
    let sealer: SecretSealer

    /// `auth.twofactor.config`, row 1 as the config service keeps it.
    static let settingsTable = TableDefinition("twofactor_settings", columns: [
        .init("enabled", .boolean, default: false),
        .init("window", .integer, default: .int(Int64(defaultWindow))),
    ])

    /// The newest time step each account used; `step` (`<user id>:<counter>`) is unique.
    static let usedTable = TableDefinition("twofactor_used", columns: [
        .init("user_id", .integer, nullable: false),
        .init("counter", .integer, nullable: false),
        .init("step", .text, unique: true, nullable: false),
    ])

    /// One step either side: RFC 6238 §5.2's allowance for a code typed as it changed, or a clock a little off.
    static let defaultWindow = 1
    static let windowRange = 0...10

    struct Settings: Sendable {
        var enabled = false
        var window = TwoFactor.defaultWindow
    }

    func settings() async throws -> Settings {
        guard let row = try await datastore.get(Self.settingsTable, id: 1) else { return Settings() }
        return Settings(enabled: row["enabled"]?.boolValue ?? false, window: row["window"]?.intValue.map(Int.init) ?? Self.defaultWindow)
    }

    /// The generator an account's login must be checked against, or nil when it needs no second factor.
    func required(userID: Int64?) async throws -> TOTP? {
        guard let userID, try await settings().enabled, let row = try await datastore.get(UserTable.definition, id: userID) else { return nil }
        return try totp(row)
    }

    /// The account's generator, nil when it has no secret.
    func totp(_ row: JSONObject) throws -> TOTP? {
        guard let sealed = row["twofactor_secret"]?.stringValue, !sealed.isEmpty else { return nil }
        guard let secret = Base32.decode(try sealer.unseal(sealed)) else {
            throw CallError(Errno.EINVAL, "The stored two-factor secret of \(row["username"]?.stringValue ?? "?") is not base32")
        }
        return TOTP(secret: secret, digits: Int(row["twofactor_digits"]?.intValue ?? 6), interval: Int(row["twofactor_interval"]?.intValue ?? 30))
    }

    /// Whether `code` is good for account `userID` now, marking its time step used when it is.
    func accept(_ code: String, totp: TOTP, userID: Int64, now: Int64 = Session.wallClockMillis / 1000) async throws -> Bool {
        guard let counter = totp.match(code, at: now, window: try await settings().window) else { return false }
        let (filters, newest) = try QueryArguments.parse([[["user_id", "=", .int(userID)]], ["order_by": ["-counter"]]])
        let used = try await datastore.query(Self.usedTable, filters: filters, options: newest).arrayValue ?? []
        if let last = used.first?["counter"]?.intValue, counter <= last { return false }
        do {
            _ = try await datastore.insert(Self.usedTable, ["user_id": .int(userID), "counter": .int(counter), "step": .string("\(userID):\(counter)")])
        } catch let error as CallError where error.errno == Errno.EEXIST {
            return false
        }
        // Only the newest step matters from now on.
        for row in used { if let id = row["id"]?.intValue { _ = try await datastore.delete(Self.usedTable, id: id) } }
        return true
    }
}
