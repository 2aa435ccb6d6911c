import SwitchboardCore

/// `auth.login`, `auth.login_with_api_key`, `auth.login_with_token` and `auth.login_ex`, with middlewared's
/// signatures; each goes through `LoginChecks`.
enum LoginMethods {
    static func register(in context: PluginContext, checks: LoginChecks) throws {
        try context.register(MethodDescriptor(
            MethodName.login, description: "Authenticates the session with a username and password; returns whether it succeeded.",
            params: [Parameter("username", schema: ["type": "string"]), Parameter("password", schema: ["type": "string"]),
                     Parameter("otp_token", schema: ["type": ["string", "null"]], default: .null)],
            returns: ["type": "boolean"], flags: [.noAuthRequired]
        ) { ctx, args in
            let username = args[0].stringValue ?? ""
            guard let credentials = try await checks.attempt(ctx, username: username, { try await checks.checkPassword(username, args[1].stringValue ?? "") }) else {
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

        try context.register(MethodDescriptor(
            MethodName.loginEx,
            description: "Authenticates with a mechanism object: PASSWORD_PLAIN {username, password}, TOKEN_PLAIN {token} or API_KEY_PLAIN {username, api_key}.",
            params: [Parameter("login_data", schema: [
                "type": "object",
                "properties": [
                    "mechanism": ["type": "string", "enum": ["PASSWORD_PLAIN", "TOKEN_PLAIN", "API_KEY_PLAIN", "OTP_TOKEN"]],
                    "username": ["type": "string"], "password": ["type": "string"], "token": ["type": "string"],
                    "api_key": ["type": "string"], "otp_token": ["type": "string"], "login_options": ["type": "object"],
                ],
                "required": ["mechanism"],
            ])],
            returns: ["type": "object"], flags: [.noAuthRequired]
        ) { ctx, args in
            let data = args[0]
            // Why a login failed, told to the client beside middlewared's response_type.
            var refusal = "Invalid username or password"
            var expired = false
            let credentials: Credentials?
            switch data["mechanism"]?.stringValue {
            case "PASSWORD_PLAIN":
                guard let username = data["username"]?.stringValue, let password = data["password"]?.stringValue else {
                    throw CallError.validation("login_data", "PASSWORD_PLAIN needs username and password")
                }
                credentials = try await checks.attempt(ctx, username: username) { try await checks.checkPassword(username, password) }
            case "TOKEN_PLAIN":
                guard let token = data["token"]?.stringValue else {
                    throw CallError.validation("login_data.token", "Field required")
                }
                credentials = try await checks.attempt(ctx, username: nil) {
                    switch checks.tokens.redeem(token, origin: ctx.session.origin) {
                    case .success(var granted):
                        granted.mechanism = .tokenPlain
                        return granted
                    case .failure(let why):
                        refusal = why.reason
                        expired = why == .expired
                        return nil
                    }
                }
            case "API_KEY_PLAIN":
                guard let key = data["api_key"]?.stringValue else {
                    throw CallError.validation("login_data.api_key", "Field required")
                }
                var why: APIKeys.Refusal?
                var granted = try await checks.checkAPIKey(ctx, key, refusal: &why)
                // middlewared's API_KEY_PLAIN names the user too: a key of someone else is not this user's.
                if let named = data["username"]?.stringValue, let user = granted?.username, named != user {
                    granted = nil
                    why = .invalid
                }
                if let why { refusal = why.reason }
                expired = why == .expired
                credentials = granted
            default:
                throw CallError.validation("login_data.mechanism", "Mechanism \(data["mechanism"] ?? .null) is not supported")
            }
            if expired { return ["response_type": "EXPIRED", "reason": .string(refusal)] }
            guard let credentials else { return ["response_type": "AUTH_ERR", "reason": .string(refusal)] }
            ctx.session.credentials = credentials
            return ["response_type": "SUCCESS", "user_info": IdentityMethods.userInfo(credentials), "authenticator": "LEVEL_1"]
        })
    }
}
