/// What happened to an item of a collection.
public enum EventKind: String, Sendable {
    case added
    case changed
    case removed
}

/// One message of a named event stream, e.g. `user.query` `added` id 3 with the new row as fields.
public struct Event: Sendable, Equatable {
    public var name: String
    public var kind: EventKind
    public var id: JSON
    public var fields: JSON
    public var extra: JSON
    /// When set, only this user's sessions (and FULL_ADMIN) receive the event: a job is seen by its owner.
    public var owner: String?

    public init(name: String, kind: EventKind, id: JSON = .null, fields: JSON = .null, extra: JSON = .null, owner: String? = nil) {
        self.name = name
        self.kind = kind
        self.id = id
        self.fields = fields
        self.extra = extra
        self.owner = owner
    }
}
