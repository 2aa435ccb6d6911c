/// Every failure a method call can end in. Errors are values: an errno, a reason, optional extra.
///
/// Dialects map `kind` to their own codes (JSON-RPC `-32601` for `.methodNotFound`, DDP `type: "VALIDATION"`,
/// ...); nothing else about an error differs between dialects.
public struct CallError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case methodNotFound
        case invalidParams
        case notAuthenticated
        case notAuthorized
        case tooManyConcurrentCalls
        case call
        case `internal`
    }

    public var kind: Kind
    public var errno: Int32
    public var reason: String
    public var extra: JSON
    public var validation: [ValidationIssue]
    /// Where the error came from, when a plugin says: middlewared's `trace` object (`class`, `formatted`) and,
    /// from an external plugin, the exception it raised (`exc_info`). `null` otherwise.
    public var trace: JSON = .null

    public init(_ errno: Int32, _ reason: String, extra: JSON = .null, kind: Kind = .call) {
        self.kind = kind
        self.errno = errno
        self.reason = reason
        self.extra = extra
        self.validation = []
    }

    public var errname: String { Errno.name(errno) }

    public var description: String { "[\(errname)] \(reason)" }

    public static func methodNotFound(_ method: String) -> CallError {
        CallError(Errno.ENOMETHOD, "Method \(method) not found", kind: .methodNotFound)
    }

    public static let notAuthenticated = CallError(Errno.ENOTAUTHENTICATED, "Not authenticated", kind: .notAuthenticated)
    public static let notAuthorized = CallError(Errno.EACCES, "Not authorized", kind: .notAuthorized)
    public static let tooManyConcurrentCalls = CallError(
        Errno.ETOOMANYREFS, "Too many concurrent calls", kind: .tooManyConcurrentCalls)

    public static func notFound(_ reason: String) -> CallError { CallError(Errno.ENOENT, reason) }
    public static func busy(_ reason: String) -> CallError { CallError(Errno.EBUSY, reason) }
    public static func internalError(_ reason: String) -> CallError {
        CallError(Errno.EFAULT, reason, kind: .internal)
    }

    /// A validation failure carrying every issue found, in middlewared's textual form for `reason`.
    public static func validation(_ issues: [ValidationIssue]) -> CallError {
        var error = CallError(
            Errno.EINVAL,
            issues.map { "[\(Errno.name($0.errno))] \($0.attribute): \($0.message)" }.joined(separator: "\n"),
            extra: .array(issues.map(\.json)),
            kind: .invalidParams)
        error.validation = issues
        return error
    }

    public static func validation(_ attribute: String, _ message: String, errno: Int32 = Errno.EINVAL) -> CallError {
        validation([ValidationIssue(attribute: attribute, message: message, errno: errno)])
    }

    /// middlewared's error object: `{"error","errname","reason","trace","extra"}`, shared by JSON-RPC `data` and DDP.
    public var errorObject: JSON {
        [
            "error": .int(Int64(errno)),
            "errname": .string(errname),
            "reason": .string(reason),
            "trace": trace,
            "extra": extra,
        ]
    }
}
