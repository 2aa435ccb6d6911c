/// A named event stream a plugin declares: who may subscribe, and what its fields look like.
public struct EventTypeDescriptor: Sendable {
    public var name: String
    public var description: String
    /// Any one of these admits a subscriber; empty means FULL_ADMIN only.
    public var roles: [String]
    public var schema: JSON
    /// Whether the events reach the other nodes of a cluster (docs/cluster.md).
    public var scope: EventScope

    public init(_ name: String, description: String = "", roles: [String] = [], schema: JSON = true, scope: EventScope = .node) {
        self.name = name
        self.description = description
        self.roles = roles
        self.schema = schema
        self.scope = scope
    }
}
