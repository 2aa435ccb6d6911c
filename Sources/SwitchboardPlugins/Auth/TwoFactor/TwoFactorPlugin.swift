import SwitchboardCore

/// Two-factor login with TOTP (RFC 6238): `auth.twofactor.config`/`update` (on or off for every account, and
/// the steps of clock drift allowed), and the per-account secrets of `TwoFactorMethods`. The auth plugin asks
/// for the code at login.
///
/// Secrets are sealed under `security.secret-key-file` before they are stored.
public struct TwoFactorPlugin: Plugin {
    public let name = "twofactor"
    public let dependencies = ["core", "user"]

    public init() {}

    public func setUp(_ context: PluginContext) async throws {
        let factor = try await Self.prepare(context)
        var settings = ConfigService(
            namespace: "auth.twofactor", description: "Two-factor authentication (TOTP) for password logins.",
            table: TwoFactor.settingsTable,
            entry: ["type": "object", "properties": ["id": ["type": "integer"], "enabled": ["type": "boolean"], "window": ["type": "integer"]]],
            update: [
                "type": "object",
                "properties": [
                    "enabled": ["type": "boolean", "description": "Accounts with a secret must give a code at password login."],
                    "window": [
                        "type": "integer", "minimum": .int(Int64(TwoFactor.windowRange.lowerBound)), "maximum": .int(Int64(TwoFactor.windowRange.upperBound)),
                        "description": "Time steps either side of now a code may come from.",
                    ],
                ],
                "additionalProperties": false,
            ],
            defaults: ["id": 1, "enabled": false, "window": .int(Int64(TwoFactor.defaultWindow))])
        settings.validate = { ctx, old, new in
            if old["enabled"] != new["enabled"] {
                ctx.logger.notice("two-factor authentication \(new["enabled"]?.boolValue == true ? "enabled" : "disabled")")
            }
            return new
        }
        try await settings.register(in: context)
        try TwoFactorMethods.register(in: context, factor: factor)
    }

    /// The tables and the sealer every user of `TwoFactor` needs (this plugin and the auth plugin).
    static func prepare(_ context: PluginContext) async throws -> TwoFactor {
        try await context.datastore.prepare(UserTable.definition)
        try await context.datastore.prepare(TwoFactor.settingsTable)
        try await context.datastore.prepare(TwoFactor.usedTable)
        return TwoFactor(datastore: context.datastore, sealer: try SecretSealer.load(path: context.daemon.secretKeyFile))
    }
}
