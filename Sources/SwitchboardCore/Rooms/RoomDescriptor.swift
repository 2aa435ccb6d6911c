/// A room, or a family of rooms, that sessions may join. Zephserver's room handler made rooms on demand for
/// anyone; here a plugin declares which rooms exist and whose roles may join them, so that what a plugin pushes
/// to a room reaches only sessions it meant to reach.
///
///     try context.register(RoomDescriptor("chat.*", description: "Chat rooms", roles: [Role.authenticated]))
public struct RoomDescriptor: Sendable {
    /// A room's name, or `prefix.*` for every room under the prefix (`chat.*` admits `chat.lobby`).
    public var name: String
    public var description: String
    /// Any one of these lets a session join a room and list its members; empty means FULL_ADMIN only,
    /// `AUTHENTICATED` any logged-in session.
    public var roles: [String]
    /// Members one room holds at most: a join beyond it is refused (EBUSY).
    public var maxMembers: Int

    public init(_ name: String, description: String = "", roles: [String] = [], maxMembers: Int = 10_000) {
        self.name = name
        self.description = description
        self.roles = roles
        self.maxMembers = maxMembers
    }

    /// Whether this declares a family (`prefix.*`) rather than one room.
    public var isFamily: Bool { name.hasSuffix(".*") }

    /// Whether `room` is this room or one of this family's.
    func admits(_ room: String) -> Bool {
        isFamily ? room.hasPrefix(name.dropLast()) && room.count > name.count - 1 : room == name
    }

    /// Why `name` cannot name a room (or, with `family`, a declaration), or nil when it can: 1 to 128 of
    /// `A-Z a-z 0-9 _ . : @ -`, so that a member's event id (`<room>/<session>`) cannot be misread.
    static func problem(with name: String, family: Bool) -> String? {
        let bare = family && name.hasSuffix(".*") ? String(name.dropLast(2)) : name
        guard !bare.isEmpty, name.utf8.count <= 128 else { return "A room name has 1 to 128 characters" }
        let allowed = bare.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x5F || byte == 0x2E || byte == 0x3A || byte == 0x40 || byte == 0x2D
        }
        guard allowed else { return "A room name has only letters, digits and _ . : @ -" }
        if !family && name.hasSuffix(".*") { return "A room name cannot end in .*" }
        return nil
    }
}
