/// One audited event: a login attempt, a logout, a token issued, or a call of a method that may change
/// something. Arguments are redacted before they are kept (`AuditRedaction`).
public struct AuditRecord: Sendable, Equatable {
    /// `AUTHENTICATION`, `LOGOUT`, `TOKEN` or `METHOD_CALL` (middlewared's audit event names where it has them).
    public var event: String
    public var timeMillis: Int64
    public var session: String
    /// Who: the session's user after the call (a login), before it, or the name a failed login tried.
    public var username: String?
    /// The client's address (`127.0.0.1:51234`, `unix:uid=0,pid=42`).
    public var address: String
    public var dialect: String
    public var method: String
    /// Stored as given: already redacted, unless `parameterNames` says they are a call's raw arguments.
    public var arguments: JSON
    /// Set for a call's raw arguments: the writer redacts them (`AuditRedaction`) off the call's path.
    var parameterNames: [String]?
    public var success: Bool
    public var errno: Int32?
    public var error: String?
    /// Done by FULL_ADMIN: kept apart from everyone else's records, so no volume of theirs can push it out.
    public var privileged = false
    /// Who the quota of `AuditSummaries` counts this record against: the logged-in user; nil for a session
    /// that is not logged in (counted by its address, whatever username a failed login tried).
    var caller: String?

    public init(event: String, timeMillis: Int64, session: String, username: String?, address: String, dialect: String,
                method: String, arguments: JSON, success: Bool, errno: Int32? = nil, error: String? = nil) {
        self.event = event
        self.timeMillis = timeMillis
        self.session = session
        self.username = username
        self.address = address
        self.dialect = dialect
        self.method = method
        self.arguments = arguments
        self.success = success
        self.errno = errno
        self.error = error
    }

    var storedArguments: JSON {
        guard let names = parameterNames else { return arguments }
        return AuditRedaction.redact(arguments.arrayValue ?? [], parameterNames: names)
    }

    /// The stored row, under `id`.
    func row(id: Int64) -> JSONObject {
        [
            "id": .int(id), "event": .string(event), "time_ms": .int(timeMillis), "session": .string(session),
            "username": username.map { .string($0) } ?? .null, "address": .string(address), "dialect": .string(dialect),
            "method": .string(method), "arguments": storedArguments, "success": .bool(success),
            "errno": errno.map { .int(Int64($0)) } ?? .null, "error": error.map { .string($0) } ?? .null,
            "privileged": .bool(privileged),
        ]
    }
}
