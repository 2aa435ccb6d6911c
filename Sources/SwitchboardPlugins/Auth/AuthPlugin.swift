import SwitchboardCore

/// `auth.*`: logging a session in and out with passwords and tokens, with middlewared's signatures.
public struct AuthPlugin: Plugin {
    public let name = "auth"
    public let dependencies = ["core", "user", "api_key"]
    public let needs: PluginNeeds = [.sessions, .loginGuard]

    public init() {}

    public func setUp(_ context: PluginContext) async throws {
        let tokens = TokenStore()
        let datastore = context.datastore
        // The tables of the user and api_key plugins, declared here too: logins read them.
        try await datastore.prepare(UserTable.definition)
        try await datastore.prepare(APIKeys.definition)
        context.register(ServiceDescriptor(name: "auth", description: "Authentication of sessions."))

        /// Checks a username and password; `nil` when they do not match an unlocked account.
        @Sendable func checkPassword(_ username: String, _ password: String) async throws -> Credentials? {
            // A miss spends what a real check does, so it does not reveal which usernames exist (or have a password).
            guard let row = try await UserTable.find(datastore, username: username),
                  case .string(let hash) = row["password_hash"], !hash.isEmpty
            else {
                _ = await PasswordHasher.verify(password, hash: try await UserTable.decoyHash(datastore))
                return nil
            }
            guard await PasswordHasher.verify(password, hash: hash), row["locked"]?.boolValue != true else { return nil }
            return UserTable.credentials(row, mechanism: .passwordPlain)
        }

        try SessionMethods.register(in: context)
        let clientGuard = try context.loginGuard()
        try LockoutMethods.register(in: context, guard: clientGuard)
        /// Every login goes through here: it is admitted (or refused, or made to wait) before its credentials are
        /// looked at, a failure is counted against the address and the account and answered only after the
        /// failure delay, a success removes only its own count. `username`: the account tried, nil when the
        /// credential names nobody (a token, an API key).
        @Sendable func attempt(_ ctx: CallContext, username: String?, _ check: () async throws -> Credentials?) async throws -> Credentials? {
            let admitted = try await clientGuard.beginLogin(ctx.session.origin, username: username)
            let credentials: Credentials?
            do {
                credentials = try await check()
            } catch {
                await clientGuard.endLogin(admitted, succeeded: false)
                throw error
            }
            if credentials == nil {
                ctx.logger.notice("login failed", metadata: ["username": .string(username ?? "(none)"), "origin": .string("\(ctx.session.origin)")])
            }
            await clientGuard.endLogin(admitted, succeeded: credentials != nil)
            return credentials
        }

        try context.register(MethodDescriptor(
            MethodName.login, description: "Authenticates the session with a username and password; returns whether it succeeded.",
            params: [Parameter("username", schema: ["type": "string"]), Parameter("password", schema: ["type": "string"]),
                     Parameter("otp_token", schema: ["type": ["string", "null"]], default: .null)],
            returns: ["type": "boolean"], flags: [.noAuthRequired]
        ) { ctx, args in
            let username = args[0].stringValue ?? ""
            guard let credentials = try await attempt(ctx, username: username, { try await checkPassword(username, args[1].stringValue ?? "") }) else {
                return false
            }
            ctx.session.credentials = credentials
            return true
        })

        /// Checks an API key. A key sent in the clear from a remote address is refused with its reason (and
        /// logged, since it may have been seen on the way), not counted as a guess and not revoked.
        @Sendable func checkAPIKey(_ ctx: CallContext, _ key: String, refusal: inout APIKeys.Refusal?) async throws -> Credentials? {
            guard clientGuard.isSecureTransport(ctx.session) else {
                let id = APIKeys.parse(key).map { String($0.id) } ?? "?"
                ctx.logger.warning("API key sent over an unencrypted remote connection; refused, and it may have been exposed",
                                   metadata: ["api_key": .string(id), "origin": .string("\(ctx.session.origin)")])
                refusal = .insecureTransport
                return nil
            }
            var why: APIKeys.Refusal?
            let credentials = try await attempt(ctx, username: nil) {
                switch try await APIKeys.verify(key, datastore: datastore, now: Session.wallClockMillis) {
                case .success(let (credentials, id)):
                    _ = try? await datastore.update(APIKeys.definition, id: id, ["last_used_ms": .int(Session.wallClockMillis)])
                    return credentials
                case .failure(let reason):
                    why = reason
                    return nil
                }
            }
            refusal = why
            return credentials
        }

        try context.register(MethodDescriptor(
            MethodName.loginWithAPIKey,
            description: "Authenticates the session with an API key (<id>-<secret>); refused over an unencrypted remote connection.",
            params: [Parameter("api_key", schema: ["type": "string"])], returns: ["type": "boolean"], flags: [.noAuthRequired]
        ) { ctx, args in
            var refusal: APIKeys.Refusal?
            guard let credentials = try await checkAPIKey(ctx, args[0].stringValue ?? "", refusal: &refusal) else {
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
            let redeemed = try await attempt(ctx, username: nil) {
                guard case .success(var credentials) = tokens.redeem(args[0].stringValue ?? "", origin: ctx.session.origin) else { return nil }
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
                credentials = try await attempt(ctx, username: username) { try await checkPassword(username, password) }
            case "TOKEN_PLAIN":
                guard let token = data["token"]?.stringValue else {
                    throw CallError.validation("login_data.token", "Field required")
                }
                credentials = try await attempt(ctx, username: nil) {
                    switch tokens.redeem(token, origin: ctx.session.origin) {
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
                var granted = try await checkAPIKey(ctx, key, refusal: &why)
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
            return ["response_type": "SUCCESS", "user_info": Self.userInfo(credentials), "authenticator": "LEVEL_1"]
        })

        try context.register(MethodDescriptor(
            MethodName.generateToken,
            description: "A token that logs a session in as the caller: valid ttl seconds, optionally once only and only from this client.",
            params: [
                Parameter("ttl", schema: ["type": ["integer", "null"], "minimum": 1, "maximum": 2_592_000], default: 600),
                Parameter("attrs", schema: ["type": "object"], default: [:]),
                Parameter("match_origin", schema: ["type": "boolean"], default: true),
                Parameter("single_use", schema: ["type": "boolean"], default: false),
            ],
            returns: ["type": "string"], roles: [Role.authenticated]
        ) { ctx, args in
            guard let credentials = ctx.credentials else { throw CallError.notAuthenticated }
            let ttl = args[0].intValue ?? 600
            let token = TokenStore.Token(
                credentials: credentials, expires: .now + .seconds(ttl), singleUse: args[3].boolValue ?? false,
                origin: (args[2].boolValue ?? true) ? ctx.session.origin : nil, attributes: args[1])
            return .string(tokens.issue(token))
        })

        try context.register(MethodDescriptor(
            "auth.me", description: "The authenticated user of this session.",
            returns: ["type": "object"], roles: [Role.authenticated], flags: .readonly
        ) { ctx, _ in
            guard let credentials = ctx.credentials else { throw CallError.notAuthenticated }
            var info = Self.userInfo(credentials).objectValue ?? [:]
            if let id = credentials.userID, credentials.mechanism != .unixSocket,
               let row = try await datastore.get(UserTable.definition, id: id)
            {
                info["pw_gecos"] = row["full_name"] ?? ""
            }
            return .object(info)
        })

        try context.register(MethodDescriptor(
            MethodName.logout, description: "Ends the session's authentication.", returns: ["type": "boolean"],
            roles: [Role.authenticated]
        ) { ctx, _ in
            ctx.session.credentials = nil
            return true
        })
    }

    static func userInfo(_ credentials: Credentials) -> JSON {
        [
            "pw_name": .string(credentials.username),
            "pw_uid": credentials.userID.map { .int($0) } ?? .null,
            "pw_gecos": "",
            "privilege": ["roles": JSON(strings: credentials.roles.sorted())],
            "account_attributes": credentials.mechanism == .unixSocket ? ["LOCAL"] : ["LOCAL", "PASSWORD_LOGIN"],
            "mechanism": .string(credentials.mechanism.rawValue),
        ]
    }
}
