import SwitchboardCore

/// What every login method does around its credential: the password and API key checks and the login guard's
/// admission and counting, and the second factor, shared by `auth.login`, `auth.login_with_*` and `auth.login_ex`.
struct LoginChecks: Sendable {
    let datastore: PluginDatastore
    let tokens: TokenStore
    let clientGuard: ClientGuard
    let twoFactor: TwoFactor
    let pending: PendingSecondFactors

    /// Whether `code` is the second factor `credentials` need: true when the account needs none, false when
    /// it needs one and `code` is missing, wrong, too old or used before.
    func secondFactor(_ credentials: Credentials, code: String?) async throws -> Bool {
        guard let totp = try await twoFactor.required(userID: credentials.userID) else { return true }
        guard let code, let id = credentials.userID else { return false }
        return try await twoFactor.accept(code, totp: totp, userID: id)
    }

    /// Checks a username and password; `nil` when they do not match an unlocked account.
    func checkPassword(_ username: String, _ password: String) async throws -> Credentials? {
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

    /// Every login goes through here: it is admitted (or refused, or made to wait) before its credentials are
    /// looked at, a failure is counted against the address and the account and answered only after the
    /// failure delay, a success removes only its own count. `username`: the account tried, nil when the
    /// credential names nobody (a token, an API key).
    func attempt(_ ctx: CallContext, username: String?, _ check: () async throws -> Credentials?) async throws -> Credentials? {
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

    /// Checks an API key. A key sent in the clear from a remote address is refused with its reason (and
    /// logged, since it may have been seen on the way), not counted as a guess and not revoked.
    func checkAPIKey(_ ctx: CallContext, _ key: String, refusal: inout APIKeys.Refusal?) async throws -> Credentials? {
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
}
