/// A new connection logged in by the plugins' session managers, as a login is: the address's lockout applies,
/// a refused proof counts as a failed login, and both outcomes are audited (`AUTHENTICATION`).
extension Runtime {
    /// Asks the session managers about a new connection's upgrade request and logs its session in when one vouches
    /// for it. Nothing happens for a session already trusted (root on the local socket) or with no manager registered.
    public func authenticate(_ session: Session, upgrade request: UpgradeRequest) async {
        guard !session.isAuthenticated, !sessionManagers.isEmpty else { return }
        let attempt: ClientGuard.LoginAttempt
        do {
            attempt = try await clientGuard.beginLogin(session.origin, username: nil)
        } catch {
            logger.info("session managers not asked: the address is locked out", metadata: ["session": .string(session.id),
                                                                                           "origin": .string(session.address)])
            return
        }
        let verdict = await sessionManagers.judge(request)
        switch verdict {
        case .none:
            await clientGuard.endLogin(attempt, succeeded: true)
        case .authenticated(let credentials, let manager):
            session.credentials = credentials
            await clientGuard.endLogin(attempt, succeeded: true)
            recordLogin(session, manager: manager, username: credentials.username, success: true, error: nil)
            logger.info("session authenticated by a session manager", metadata: [
                "session": .string(session.id), "manager": .string(manager), "username": .string(credentials.username)])
        case .refused(let manager, let reason):
            recordLogin(session, manager: manager, username: nil, success: false, error: reason)
            logger.info("session manager refused a connection", metadata: [
                "session": .string(session.id), "manager": .string(manager), "origin": .string(session.address), "reason": .string(reason)])
            await clientGuard.endLogin(attempt, succeeded: false)
        }
    }

    private func recordLogin(_ session: Session, manager: String, username: String?, success: Bool, error: String?) {
        var record = AuditRecord(
            event: "AUTHENTICATION", timeMillis: Session.wallClockMillis, session: session.id, username: username, address: session.address,
            dialect: session.dialect, method: "session_manager", arguments: ["manager": .string(manager)], success: success,
            errno: success ? nil : Errno.EACCES, error: error)
        record.privileged = session.credentials?.isFullAdmin == true
        record.caller = session.credentials?.username
        audit.record(record)
    }
}
