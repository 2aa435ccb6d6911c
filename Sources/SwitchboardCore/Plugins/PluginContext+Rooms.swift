/// Rooms and targeted push (Zephserver's room handler and websocket server): declaring rooms, putting sessions
/// in them, and pushing a message to a session, a user, a room or everyone.
extension PluginContext {
    /// Declares a room, or a family `prefix.*`, that sessions may join (`room.join`) when their roles admit it.
    /// - Throws: `CallError` EINVAL for a bad name, EEXIST when it is declared already.
    public func register(_ room: RoomDescriptor) throws {
        try runtime.rooms.register(room, plugin: plugin)
        ledger.withLock { $0.rooms.append(room.name) }
    }

    /// Withdraws a declaration: the members of rooms no other declaration admits leave them.
    public func unregister(room name: String) {
        guard ledger.withLock({ $0.drop(name, from: \.rooms) }) else { return }
        runtime.rooms.unregister(name)
    }

    /// Puts a session (a caller's: `ctx.session`) in a declared room, whatever its roles; returns the members.
    /// - Throws: `CallError` as `RoomDirectory.join`.
    @discardableResult
    public func join(_ session: Session, room: String) throws(CallError) -> [RoomMember] {
        try runtime.rooms.join(session, room: room)
    }

    /// Takes a session out of a room; false when it was not in it.
    @discardableResult
    public func leave(_ session: Session, room: String) -> Bool {
        runtime.rooms.leave(session, room: room)
    }

    /// `join` by the session's id (a call's `context.session` as an external plugin sees it).
    /// - Throws: `CallError` ENOENT when no session with that id is open, else as `join`.
    @discardableResult
    public func join(session id: String, room: String) throws(CallError) -> [RoomMember] {
        guard let session = runtime.sessions.session(id: id) else { throw CallError(Errno.ENOENT, "No open session \(id)") }
        return try runtime.rooms.join(session, room: room)
    }

    /// `leave` by the session's id; false when no such session is open or it was not in the room.
    @discardableResult
    public func leave(session id: String, room: String) -> Bool {
        guard let session = runtime.sessions.session(id: id) else { return false }
        return runtime.rooms.leave(session, room: room)
    }

    /// A room's members on this node, oldest first.
    public func members(of room: String) -> [RoomMember] {
        runtime.rooms.members(of: room)
    }

    /// Pushes `event` to `target`, unasked, in each session's dialect: to those whose roles admit the event's
    /// type (register it first). Returns how many sessions of this node it reached; in a cluster the others'
    /// are reached too.
    /// - Throws: `CallError` ENOENT when no event type has the event's name.
    @discardableResult
    public func push(_ event: Event, to target: PushTarget) throws(CallError) -> Int {
        try runtime.push.push(event, to: target)
    }

    /// Registers a session manager: it is asked to authenticate each new WebSocket connection from its HTTP
    /// upgrade request, after the managers registered before it.
    /// - Throws: `CallError` EEXIST when the name is taken.
    public func register(_ manager: SessionManagerDescriptor) throws {
        try runtime.sessionManagers.register(manager, plugin: plugin)
        ledger.withLock { $0.sessionManagers.append(manager.name) }
    }

    public func unregister(sessionManager name: String) {
        guard ledger.withLock({ $0.drop(name, from: \.sessionManagers) }) else { return }
        runtime.sessionManagers.unregister(name)
    }
}
