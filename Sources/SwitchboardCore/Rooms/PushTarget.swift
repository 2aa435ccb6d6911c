/// Whom a plugin's push reaches (Zephserver's websocket server sent to a connection, a user, a room or all).
public enum PushTarget: Sendable, Equatable, CustomStringConvertible {
    /// One session, by its id (`CallContext.session.id`, `auth.sessions`).
    case session(String)
    /// Every session logged in as this user.
    case user(String)
    /// Every member of a room.
    case room(String)
    /// Every logged-in session.
    case everyone

    public var description: String {
        switch self {
        case .session(let id): return "session \(id)"
        case .user(let name): return "user \(name)"
        case .room(let name): return "room \(name)"
        case .everyone: return "everyone"
        }
    }

    /// `{"session": id}`, `{"user": name}`, `{"room": name}` or `{"everyone": true}`: how a client or another node names it.
    public var json: JSON {
        switch self {
        case .session(let id): return ["session": .string(id)]
        case .user(let name): return ["user": .string(name)]
        case .room(let name): return ["room": .string(name)]
        case .everyone: return ["everyone": true]
        }
    }

    public init?(json: JSON) {
        if let id = json["session"]?.stringValue {
            self = .session(id)
        } else if let name = json["user"]?.stringValue {
            self = .user(name)
        } else if let name = json["room"]?.stringValue {
            self = .room(name)
        } else if json["everyone"]?.boolValue == true {
            self = .everyone
        } else {
            return nil
        }
    }
}
