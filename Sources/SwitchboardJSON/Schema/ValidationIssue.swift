/// One failed check of one attribute, middlewared's `[attribute, message, errno]` triple: where (a dotted
/// path), why, and the errno it is reported with (22, EINVAL, unless the check says otherwise: a clash is EEXIST).
public struct ValidationIssue: Sendable, Equatable {
    /// Dotted path, e.g. `user_create.username` or `user_create.roles.0`.
    public var attribute: String
    public var message: String
    public var errno: Int32

    public init(attribute: String, message: String, errno: Int32 = 22) {
        self.attribute = attribute
        self.message = message
        self.errno = errno
    }

    public var json: JSON { .array([.string(attribute), .string(message), .int(Int64(errno))]) }
}
