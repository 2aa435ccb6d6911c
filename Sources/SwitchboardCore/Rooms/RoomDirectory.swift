import Synchronization

/// Every room of this node and its members (Zephserver's room handler), and the rooms plugins declared.
///
/// Invariants: a session is in at most `maxRoomsPerSession` rooms and a room holds at most its declaration's
/// `maxMembers`; a room exists while it has members and a declaration admits it; a session leaves every room
/// when its connection closes, so nothing here outlives the connections. A room's members hear its joins and
/// leaves on `room.members` (subscribed), in the order they happened: the events are queued while the lock is
/// held, and handlers run after it is released.
public final class RoomDirectory: Sendable {
    public static let eventName = "room.members"
    /// Rooms one session may be in at once.
    public static let maxRoomsPerSession = 64

    struct Declared {
        let descriptor: RoomDescriptor
        let plugin: String
    }

    struct State {
        var declared: [String: Declared] = [:]
        /// Room -> its members by session.
        var rooms: [String: [ObjectIdentifier: RoomMember]] = [:]
        /// Session -> the rooms it is in.
        var joined: [ObjectIdentifier: Set<String>] = [:]

        /// The declaration that admits `room`: its own, else the family with the longest prefix.
        func declaration(for room: String) -> Declared? {
            if let exact = declared[room], !exact.descriptor.isFamily { return exact }
            return declared.values.filter { $0.descriptor.isFamily && $0.descriptor.admits(room) }
                .max { $0.descriptor.name.count < $1.descriptor.name.count }
        }

        func members(_ room: String) -> [RoomMember] { rooms[room].map { Array($0.values) } ?? [] }

        func keys(_ room: String) -> Set<ObjectIdentifier> { rooms[room].map { Set($0.keys) } ?? [] }

        mutating func remove(_ key: ObjectIdentifier, from room: String) -> RoomMember? {
            guard let member = rooms[room]?.removeValue(forKey: key) else { return nil }
            if rooms[room]?.isEmpty == true { rooms.removeValue(forKey: room) }
            joined[key]?.remove(room)
            if joined[key]?.isEmpty == true { joined.removeValue(forKey: key) }
            return member
        }
    }

    let events: EventBus
    let state = Mutex(State())

    init(events: EventBus) {
        self.events = events
    }

    // MARK: - Declarations

    /// - Throws: `CallError` EINVAL for a bad name, EEXIST when the name is declared already.
    func register(_ descriptor: RoomDescriptor, plugin: String) throws(CallError) {
        if let problem = RoomDescriptor.problem(with: descriptor.name, family: true) { throw CallError.validation("name", problem) }
        try state.withLock { state throws(CallError) in
            guard state.declared[descriptor.name] == nil else { throw CallError(Errno.EEXIST, "Room \(descriptor.name) is already declared") }
            state.declared[descriptor.name] = Declared(descriptor: descriptor, plugin: plugin)
        }
    }

    /// Withdraws a declaration: members of the rooms no other declaration admits leave them.
    func unregister(_ name: String) {
        let left = state.withLock { state -> [(String, RoomMember)] in
            guard state.declared.removeValue(forKey: name) != nil else { return [] }
            var left: [(String, RoomMember)] = []
            for room in Array(state.rooms.keys) where state.declaration(for: room) == nil {
                // Every member hears every member removed: the room is gone for all of them.
                let keys = state.keys(room)
                let members = keys.compactMap { state.remove($0, from: room) }
                events.deliver(members.map { $0.event(.removed, in: room) }, audience: { keys.contains(ObjectIdentifier($0)) })
                left += members.map { (room, $0) }
            }
            return left
        }
        for (room, member) in left { events.handle(member.event(.removed, in: room)) }
    }

    /// The declaration that admits `room`; nil when none does.
    public func descriptor(for room: String) -> RoomDescriptor? {
        state.withLock { $0.declaration(for: room)?.descriptor }
    }

    // MARK: - Membership

    /// Puts a session in a room and returns the members, the session included. The session, when subscribed to
    /// `room.members`, hears the members that were there; then every member hears the join. Joining a room twice
    /// is one membership.
    /// - Throws: `CallError` EINVAL for a bad name or a session that cannot receive messages (an HTTP request's,
    ///   the daemon's own), ENOENT when no declaration admits the room, EBUSY past a limit.
    @discardableResult
    public func join(_ session: Session, room: String) throws(CallError) -> [RoomMember] {
        if let problem = RoomDescriptor.problem(with: room, family: false) { throw CallError.validation("name", problem) }
        guard session.outbox != nil else {
            throw CallError(Errno.EINVAL, "A \(session.dialect) session cannot be in a room: it receives no messages")
        }
        let key = ObjectIdentifier(session)
        let (members, joined) = try state.withLock { state throws(CallError) -> ([RoomMember], RoomMember?) in
            guard let declared = state.declaration(for: room) else { throw CallError(Errno.ENOENT, "No room named \(room)") }
            if state.rooms[room]?[key] != nil { return (state.members(room), nil) }
            guard (state.joined[key]?.count ?? 0) < Self.maxRoomsPerSession else {
                throw CallError.busy("A session is in \(Self.maxRoomsPerSession) rooms at most")
            }
            guard (state.rooms[room]?.count ?? 0) < declared.descriptor.maxMembers else {
                throw CallError.busy("Room \(room) is full (\(declared.descriptor.maxMembers) members)")
            }
            let before = state.members(room)
            let member = RoomMember(session: session, username: session.credentials?.username ?? "", joinedAt: Session.wallClockMillis)
            state.rooms[room, default: [:]][key] = member
            state.joined[key, default: []].insert(room)
            // The joiner hears who was there, then everyone hears the joiner: its client's copy of the room
            // fills in the order the members came.
            events.deliver(before.sorted { $0.joinedAt < $1.joinedAt }.map { $0.event(.added, in: room) }, audience: { $0 === session })
            let inRoom = state.keys(room)
            events.deliver([member.event(.added, in: room)], audience: { inRoom.contains(ObjectIdentifier($0)) })
            return (before + [member], member)
        }
        if let joined { events.handle(joined.event(.added, in: room)) }
        return members.sorted { $0.joinedAt < $1.joinedAt }
    }

    /// Takes a session out of a room; false when it was not in it. The others hear it leave; the session, when
    /// subscribed, hears every member removed, so that a client's copy of the room empties.
    @discardableResult
    public func leave(_ session: Session, room: String) -> Bool {
        let key = ObjectIdentifier(session)
        let left = state.withLock { state -> RoomMember? in
            let before = state.members(room)
            guard let member = state.remove(key, from: room) else { return nil }
            let inRoom = state.keys(room)
            events.deliver([member.event(.removed, in: room)], audience: { inRoom.contains(ObjectIdentifier($0)) || $0 === session })
            events.deliver(before.filter { $0.session !== session }.map { $0.event(.removed, in: room) }, audience: { $0 === session })
            return member
        }
        guard let left else { return false }
        events.handle(left.event(.removed, in: room))
        return true
    }

    /// Takes a closed connection's session out of every room; the others hear it leave.
    public func leaveAll(_ session: Session) {
        let key = ObjectIdentifier(session)
        let left = state.withLock { state -> [(String, RoomMember)] in
            var left: [(String, RoomMember)] = []
            for room in state.joined[key] ?? [] {
                guard let member = state.remove(key, from: room) else { continue }
                let inRoom = state.keys(room)
                events.deliver([member.event(.removed, in: room)], audience: { inRoom.contains(ObjectIdentifier($0)) })
                left.append((room, member))
            }
            return left
        }
        for (room, member) in left { events.handle(member.event(.removed, in: room)) }
    }

    /// A room's members, oldest first; empty for a room nobody is in.
    public func members(of room: String) -> [RoomMember] {
        state.withLock { $0.members(room) }.sorted { $0.joinedAt < $1.joinedAt }
    }

    /// The rooms a session is in.
    public func rooms(of session: Session) -> [String] {
        state.withLock { Array($0.joined[ObjectIdentifier(session)] ?? []) }.sorted()
    }

    /// Each room with members, and how many.
    public var occupancy: [String: Int] {
        state.withLock { $0.rooms.mapValues(\.count) }
    }

    /// The declarations with their plugins, by name.
    var declarations: [(descriptor: RoomDescriptor, plugin: String)] {
        state.withLock { $0.declared.values.map { ($0.descriptor, $0.plugin) } }.sorted { $0.descriptor.name < $1.descriptor.name }
    }
}
