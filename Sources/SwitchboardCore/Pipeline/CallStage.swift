/// One method call on its way through the pipeline.
public struct Call: Sendable {
    public var method: MethodDescriptor
    public var params: [JSON]
    public var context: CallContext

    public init(method: MethodDescriptor, params: [JSON], context: CallContext) {
        self.method = method
        self.params = params
        self.context = context
    }
}

/// One stage of the call pipeline (authenticate, authorize, validate, ...), in the manner of Hummingbird's
/// `MiddlewareProtocol`: it may refuse the call, change it, or pass it on to `next`.
///
/// ```swift
/// struct AuditStage: CallStage {
///     func handle(_ call: Call, next: CallStage.Next) async throws -> JSON {
///         let result = try await next(call)
///         call.context.logger.info("called \(call.method.name)")
///         return result
///     }
/// }
/// ```
public protocol CallStage: Sendable {
    typealias Next = @Sendable (Call) async throws -> JSON
    func handle(_ call: Call, next: Next) async throws -> JSON
}

/// For a session that is not authenticated: counts the call against the rate limit per method and client
/// address (EBUSY beyond it, `ClientGuard`; local sessions are exempt), then refuses it unless the method
/// needs no authentication (ENOTAUTHENTICATED). A call that logs the session in is given back: a login with
/// valid credentials is never rate-limited. An authenticated session's call costs one check.
public struct AuthenticateStage: CallStage {
    public init() {}

    public func handle(_ call: Call, next: Next) async throws -> JSON {
        let session = call.context.session
        guard !session.isAuthenticated else { return try await next(call) }
        let clientGuard = call.context.runtime.clientGuard
        try clientGuard.admitUnauthenticated(method: call.method.name, origin: session.origin)
        if !call.method.flags.contains(.noAuthRequired) { throw CallError.notAuthenticated }
        let result = try await next(call)
        if session.isAuthenticated { clientGuard.refundUnauthenticated(method: call.method.name, origin: session.origin) }
        return result
    }
}

/// Refuses a call whose credentials lack every role the method admits (EACCES), and every call of a user who
/// had `security.refused-calls` refused within the window (EBUSY, `ClientGuard.checkRefusals`).
public struct AuthorizeStage: CallStage {
    public init() {}

    public func handle(_ call: Call, next: Next) async throws -> JSON {
        let flags = call.method.flags
        if !flags.contains(.noAuthRequired) {
            guard let credentials = call.context.session.credentials else { throw CallError.notAuthenticated }
            let session = call.context.session
            let clientGuard = call.context.runtime.clientGuard
            try clientGuard.checkRefusals(credentials, origin: session.origin)
            let roles = flags.contains(.private) ? [Role.fullAdmin] : call.method.roles
            if !credentials.allows(anyOf: roles) {
                clientGuard.countRefusal(credentials, origin: session.origin)
                throw CallError.notAuthorized
            }
        }
        return try await next(call)
    }
}

/// Checks the argument count and every argument against its schema, and fills in defaults.
public struct ValidateStage: CallStage {
    public init() {}

    public func handle(_ call: Call, next: Next) async throws -> JSON {
        var call = call
        call.params = try Self.validate(call.method, call.params)
        return try await next(call)
    }

    static func validate(_ method: MethodDescriptor, _ params: [JSON]) throws -> [JSON] {
        let expected = method.params.count
        if params.count > expected {
            throw CallError(Errno.EINVAL, "Too many arguments (expected \(expected), found \(params.count))",
                            extra: .array([]), kind: .invalidParams)
        }
        var issues: [ValidationIssue] = []
        var filled = params
        for (index, parameter) in method.params.enumerated() {
            if index >= params.count {
                if let value = parameter.defaultValue {
                    filled.append(value)
                    continue
                }
                issues.append(ValidationIssue(attribute: parameter.name, message: "Field required"))
                filled.append(.null)
                continue
            }
            issues.append(contentsOf: method.compiled[index].validate(params[index], path: parameter.name))
        }
        if !issues.isEmpty { throw CallError.validation(issues) }
        return filled
    }
}
