/// Why a value cannot be used as a schema.
public struct SchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String

    public init(reason: String) {
        self.reason = reason
    }

    /// Worded as the daemon words an invalid argument, since that is what a bad schema is wherever it is given.
    public var description: String { "[EINVAL] \(reason)" }
}
