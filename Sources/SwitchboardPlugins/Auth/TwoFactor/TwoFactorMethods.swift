import SwitchboardCore

/// middlewared's per-user two-factor methods: `user.twofactor_config`, `user.provisioning_uri`,
/// `user.renew_2fa_secret`, `user.unset_2fa_secret`, `user.verify_twofactor_token`, and
/// `auth.twofactor.provisioning_uri` for the caller's own account.
///
/// Reading or renewing a secret is for FULL_ADMIN or the account itself (the answer holds the secret);
/// removing one is account management (USER_WRITE, and without FULL_ADMIN only for an account whose roles the
/// caller holds, since removing an administrator's second factor weakens the administrator's login).
enum TwoFactorMethods {
    static let issuer = "Switchboard"

    static let configSchema: JSON = [
        "type": "object",
        "properties": [
            "provisioning_uri": ["type": ["string", "null"]], "secret_configured": ["type": "boolean"],
            "interval": ["type": "integer"], "otp_digits": ["type": "integer"],
        ],
    ]

    static func register(in context: PluginContext, factor: TwoFactor) throws {
        let username = Parameter("username", schema: ["type": "string", "minLength": 1])
        try context.register(MethodDescriptor(
            "user.twofactor_config", description: "An account's two-factor settings, with the provisioning URI (which holds the secret) when it has one.",
            params: [username], returns: configSchema, roles: [Role.authenticated], flags: .readonly
        ) { ctx, args in
            let row = try await account(ctx, args[0].stringValue ?? "", factor: factor, selfOrAdmin: true)
            return try config(row, factor: factor)
        })

        try context.register(MethodDescriptor(
            "user.provisioning_uri", description: "The otpauth:// URI an authenticator app scans for the account; it holds the secret.",
            params: [username], returns: ["type": "string"], roles: [Role.authenticated], flags: .readonly
        ) { ctx, args in
            .string(try provisioningURI(try await account(ctx, args[0].stringValue ?? "", factor: factor, selfOrAdmin: true), factor: factor))
        })

        try context.register(MethodDescriptor(
            "auth.twofactor.provisioning_uri", description: "The otpauth:// URI of an account (default: the caller's own).",
            params: [Parameter("username", schema: ["type": ["string", "null"]], default: .null)], returns: ["type": "string"],
            roles: [Role.authenticated], flags: .readonly
        ) { ctx, args in
            let name = args[0].stringValue ?? ctx.credentials?.username ?? ""
            return .string(try provisioningURI(try await account(ctx, name, factor: factor, selfOrAdmin: true), factor: factor))
        })

        try context.register(MethodDescriptor(
            "user.renew_2fa_secret",
            description: "Gives the account a new two-factor secret (replacing any other) and answers the account with its twofactor_config.",
            params: [username, Parameter("twofactor_options", schema: [
                "type": "object",
                "properties": [
                    "otp_digits": ["type": "integer", "minimum": .int(Int64(TOTP.digitRange.lowerBound)), "maximum": .int(Int64(TOTP.digitRange.upperBound))],
                    "interval": ["type": "integer", "minimum": .int(Int64(TOTP.minimumInterval)), "maximum": 300],
                ],
                "additionalProperties": false,
            ], default: [:])],
            returns: ["type": "object"], roles: [Role.authenticated]
        ) { ctx, args in
            let row = try await account(ctx, args[0].stringValue ?? "", factor: factor, selfOrAdmin: true)
            guard let id = row["id"]?.intValue else { throw CallError(Errno.ENOENT, "No such account") }
            let options = args[1].objectValue ?? [:]
            let secret = Base32.encode(TOTP.randomSecret())
            _ = try await factor.datastore.update(UserTable.definition, id: id, [
                "twofactor_secret": .string(try factor.sealer.seal(secret)),
                "twofactor_digits": options["otp_digits"] ?? 6,
                "twofactor_interval": options["interval"] ?? 30,
            ])
            guard let renewed = try await factor.datastore.get(UserTable.definition, id: id) else { throw CallError(Errno.ENOENT, "No such account") }
            ctx.logger.notice("two-factor secret renewed", metadata: ["username": .string(renewed["username"]?.stringValue ?? "")])
            return ["id": .int(id), "username": renewed["username"] ?? .null, "twofactor_config": try config(renewed, factor: factor)]
        })

        try context.register(MethodDescriptor(
            "user.unset_2fa_secret", description: "Removes the account's two-factor secret: it logs in with its password alone again.",
            params: [username], returns: ["type": "null"], roles: Role.write("user")
        ) { ctx, args in
            let row = try await account(ctx, args[0].stringValue ?? "", factor: factor, selfOrAdmin: false)
            try UserPlugin.checkGrant(ctx, roles: row["roles"], attribute: "username")
            guard let id = row["id"]?.intValue else { throw CallError(Errno.ENOENT, "No such account") }
            _ = try await factor.datastore.update(UserTable.definition, id: id, ["twofactor_secret": .null])
            return .null
        })

        try context.register(MethodDescriptor(
            "user.verify_twofactor_token",
            description: "Whether a code is good for the account now (to confirm an authenticator app); a good code is used up, as at login.",
            params: [username, Parameter("token", schema: ["type": ["string", "null"]], default: .null)],
            returns: ["type": "boolean"], roles: [Role.authenticated]
        ) { ctx, args in
            let row = try await account(ctx, args[0].stringValue ?? "", factor: factor, selfOrAdmin: true)
            guard let totp = try factor.totp(row), let id = row["id"]?.intValue, let code = args[1].stringValue else { return false }
            return .bool(try await factor.accept(code, totp: totp, userID: id))
        })
    }

    /// The account named `username`, when the caller may act on it.
    static func account(_ ctx: CallContext, _ username: String, factor: TwoFactor, selfOrAdmin: Bool) async throws -> JSONObject {
        if selfOrAdmin, let credentials = ctx.credentials, !credentials.isFullAdmin, credentials.username != username {
            throw CallError(Errno.EPERM, "\(username): only FULL_ADMIN or the account itself may see or change its two-factor secret")
        }
        guard let row = try await UserTable.find(factor.datastore, username: username) else {
            throw CallError(Errno.ENOENT, "User '\(username)' does not exist")
        }
        return row
    }

    static func config(_ row: JSONObject, factor: TwoFactor) throws -> JSON {
        let totp = try factor.totp(row)
        return [
            "provisioning_uri": try totp.map { .string(try provisioningURI(row, factor: factor, totp: $0)) } ?? .null,
            "secret_configured": .bool(totp != nil),
            "interval": row["twofactor_interval"] ?? 30, "otp_digits": row["twofactor_digits"] ?? 6,
        ]
    }

    static func provisioningURI(_ row: JSONObject, factor: TwoFactor, totp: TOTP? = nil) throws -> String {
        let username = row["username"]?.stringValue ?? ""
        guard let totp = try totp ?? factor.totp(row) else {
            throw CallError(Errno.ENOENT, "'\(username)' user does not have two factor authentication configured")
        }
        return totp.provisioningURI(account: "\(username)@\(Runtime.hostname)", issuer: issuer)
    }
}
