import SwitchboardCore

/// `auth.login_ex` as middlewared 25.04 answers it: `SUCCESS`, `AUTH_ERR`, `EXPIRED`, or `OTP_REQUIRED` when a
/// right password needs its second factor, which the same session then sends as `OTP_TOKEN`.
extension LoginMethods {
    static func loginEx(_ ctx: CallContext, _ data: JSON, checks: LoginChecks) async throws -> JSON {
        let mechanism = data["mechanism"]?.stringValue
        // Any other mechanism abandons a login waiting for its code, as middlewared does.
        let waiting = checks.pending.take(session: ctx.session.id)
        // Why a login failed, told to the client beside middlewared's response_type.
        var refusal = "Invalid username or password"
        var expired = false
        let credentials: Credentials?
        switch mechanism {
        case "PASSWORD_PLAIN":
            guard let username = data["username"]?.stringValue, let password = data["password"]?.stringValue else {
                throw CallError.validation("login_data", "PASSWORD_PLAIN needs username and password")
            }
            credentials = try await checks.attempt(ctx, username: username) { try await checks.checkPassword(username, password) }
            if let granted = credentials, try await checks.twoFactor.required(userID: granted.userID) != nil {
                checks.pending.begin(session: ctx.session.id, credentials: granted)
                return ["response_type": "OTP_REQUIRED", "username": .string(username)]
            }
        case "OTP_TOKEN":
            guard let waiting else {
                throw CallError(Errno.EINVAL, "OTP_TOKEN: no authentication in progress")
            }
            guard let code = data["otp_token"]?.stringValue else {
                checks.pending.resume(session: ctx.session.id, waiting)
                throw CallError.validation("login_data.otp_token", "Field required")
            }
            // The account is the one whose password was checked: the continuation names no user to swap in.
            let granted = try await checks.attempt(ctx, username: waiting.credentials.username) {
                try await checks.secondFactor(waiting.credentials, code: code) ? waiting.credentials : nil
            }
            guard let granted else {
                checks.pending.resume(session: ctx.session.id, waiting)
                return ["response_type": "OTP_REQUIRED", "username": .string(waiting.credentials.username),
                        "reason": "Invalid, expired or already used one-time password"]
            }
            credentials = granted
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
    }
}
