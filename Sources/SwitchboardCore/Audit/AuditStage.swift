/// The first stage of the pipeline: records every call that may change something (any method not flagged
/// `readonly`), with its outcome, in the audit trail; refused calls too, since an attempted write is what an
/// operator looks for. Logins are recorded as `AUTHENTICATION` with the user they tried, whatever the result.
/// The daemon's own internal calls are not recorded (the call that caused them is).
public struct AuditStage: CallStage {
    public init() {}

    public func handle(_ call: Call, next: Next) async throws -> JSON {
        let context = call.context
        let audit = context.runtime.audit
        guard audit.isEnabled, !call.method.flags.contains(.readonly), context.session.origin != .internal else {
            return try await next(call)
        }
        let before = context.session.credentials?.username
        do {
            let result = try await next(call)
            audit.record(Self.record(call, before: before, success: Self.succeeded(call.method.name, result), errno: nil, error: nil))
            return result
        } catch {
            let failure = (error as? CallError) ?? CallError(Errno.EFAULT, String(describing: error))
            audit.record(Self.record(call, before: before, success: false, errno: failure.errno, error: failure.reason))
            throw error
        }
    }

    static func event(_ method: String) -> String {
        if MethodName.logins.contains(method) { return "AUTHENTICATION" }
        switch method {
        case MethodName.logout: return "LOGOUT"
        case MethodName.generateToken: return "TOKEN"
        default: return "METHOD_CALL"
        }
    }

    /// A login that answers false or a non-SUCCESS response failed, though the call itself did not.
    static func succeeded(_ method: String, _ result: JSON) -> Bool {
        guard event(method) == "AUTHENTICATION" else { return true }
        if case .bool(let ok) = result { return ok }
        return result["response_type"]?.stringValue == "SUCCESS"
    }

    /// The account a failed login named: auth.login's first argument, login_ex's `username`. Nothing for a
    /// token or an API key, whose text is a secret: a mistyped key is a near-miss of one (its id prefix is
    /// kept in the redacted arguments, see `AuditRedaction`).
    static func triedUsername(_ method: String, _ params: [JSON]) -> String? {
        switch method {
        case MethodName.login: return params.first?.stringValue
        case MethodName.loginEx: return params.first?["username"]?.stringValue
        default: return nil
        }
    }

    static func record(_ call: Call, before: String?, success: Bool, errno: Int32?, error: String?) -> AuditRecord {
        let session = call.context.session
        var username = session.credentials?.username ?? before
        if username == nil { username = triedUsername(call.method.name, call.params) }
        // Redaction and encoding happen in the writer: the reply is not held up by them.
        var record = AuditRecord(
            event: event(call.method.name), timeMillis: Session.wallClockMillis, session: session.id, username: username,
            address: session.address, dialect: session.dialect, method: call.method.name,
            arguments: .array(call.params), success: success, errno: errno, error: error)
        record.parameterNames = call.method.params.map(\.name)
        record.privileged = session.credentials?.isFullAdmin == true
        record.caller = session.credentials?.username
        return record
    }
}
