import SwitchboardCore

/// `auth.login`, `auth.login_with_api_key`, `auth.login_with_token` and `auth.login_ex`, with middlewared's
/// signatures; each goes through `LoginChecks`.
enum LoginMethods {
    static func register(in context: PluginContext, checks: LoginChecks) throws {
        try context.register(MethodDescriptor(
            MethodName.login,
            description: "Authenticates the session with a username and password, and the one-time password when the account needs a second factor; returns whether it succeeded.",
            params: [Parameter("username", schema: ["type": "string"]), Parameter("password", schema: ["type": "string"]),
                     Parameter("otp_token", schema: ["type": ["string", "null"]], default: .null)],
            returns: ["type": "boolean"], flags: [.noAuthRequired]
        ) { ctx, args in
            let username = args[0].stringValue ?? ""
            let password = args[1].stringValue ?? ""
            // One attempt for both factors: a right password with a missing or wrong code is a failed login.
            guard let credentials = try await checks.attempt(ctx, username: username, {
                guard let granted = try await checks.checkPassword(username, password) else { return nil }
                return try await checks.secondFactor(granted, code: args[2].stringValue) ? granted : nil
            }) else {
                return false
            }
            ctx.session.credentials = credentials
            return true
        })

        try context.register(MethodDescriptor(
            MethodName.loginWithAPIKey,
            description: "Authenticates the session with an API key (<id>-<secret>); refused over an unencrypted remote connection.",
            params: [Parameter("api_key", schema: ["type": "string"])], returns: ["type": "boolean"], flags: [.noAuthRequired]
        ) { ctx, args in
            var refusal: APIKeys.Refusal?
            guard let credentials = try await checks.checkAPIKey(ctx, args[0].stringValue ?? "", refusal: &refusal) else {
                if refusal == .insecureTransport { throw CallError(Errno.EACCES, APIKeys.Refusal.insecureTransport.reason) }
                return false
            }
            ctx.session.credentials = credentials
            return true
        })

        try context.register(MethodDescriptor(
            MethodName.loginWithToken, description: "Authenticates the session with a token from auth.generate_token.",
            params: [Parameter("token", schema: ["type": "string"])], returns: ["type": "boolean"], flags: [.noAuthRequired]
        ) { ctx, args in
            let redeemed = try await checks.attempt(ctx, username: nil) {
                guard case .success(var credentials) = checks.tokens.redeem(args[0].stringValue ?? "", origin: ctx.session.origin) else { return nil }
                credentials.mechanism = .tokenPlain
                return credentials
            }
            guard let redeemed else { return false }
            ctx.session.credentials = redeemed
            return true
        })

        let mechanisms: JSON = [
            "type": "object",
            "properties": [
                "mechanism": ["type": "string", "enum": ["PASSWORD_PLAIN", "TOKEN_PLAIN", "API_KEY_PLAIN", "OTP_TOKEN"]],
                "username": ["type": "string"], "password": ["type": "string"], "token": ["type": "string"],
                "api_key": ["type": "string"], "otp_token": ["type": "string"], "login_options": ["type": "object"],
            ],
            "required": ["mechanism"],
        ]
        try context.register(MethodDescriptor(
            MethodName.loginEx,
            description: "Authenticates with a mechanism object: PASSWORD_PLAIN {username, password}, TOKEN_PLAIN {token}, API_KEY_PLAIN {username, api_key}, or OTP_TOKEN {otp_token} after an OTP_REQUIRED answer.",
            params: [Parameter("login_data", schema: mechanisms)], returns: ["type": "object"], flags: [.noAuthRequired]
        ) { ctx, args in
            try await loginEx(ctx, args[0], checks: checks)
        })
        try context.register(MethodDescriptor(
            MethodName.loginExContinue,
            description: "Continues an auth.login_ex that answered OTP_REQUIRED: {mechanism: OTP_TOKEN, otp_token}.",
            params: [Parameter("login_data", schema: mechanisms)], returns: ["type": "object"], flags: [.noAuthRequired]
        ) { ctx, args in
            try await loginEx(ctx, args[0], checks: checks)
        })
    }
}
