/// `room.join`, `room.leave`, `room.members` and `room.query`, and the `room.members` event: the daemon's own
/// methods over the rooms plugins declare, registered before any plugin (as `worker.*` are).
enum RoomMethods {
    static func register(in runtime: Runtime) throws {
        let rooms = runtime.rooms
        runtime.registry.register(ServiceDescriptor(name: "room", description: "Named groups of sessions that plugins push messages to.",
                                                    plugin: PluginMethods.daemonPlugin))
        runtime.events.register(EventTypeDescriptor(
            RoomDirectory.eventName,
            description: "Joins (added) and leaves (removed) of the rooms this session is in; on joining, the members already "
                + "there (added), and on leaving, every member (removed). Id `<room>/<session>`; fields: id, room, session, "
                + "username, dialect, joined.",
            roles: [Role.authenticated]))

        let name = [Parameter("name", schema: ["type": "string", "minLength": 1, "maxLength": 128])]
        try runtime.registry.register(MethodDescriptor(
            MethodName.roomJoin,
            description: "Joins a room that a plugin declared and whose roles admit this session; returns the members, this "
                + "session included, oldest first. Joining twice is one membership; the session leaves when it closes.",
            params: name, returns: ["type": "array"], roles: [Role.authenticated]
        ) { ctx, args in
            let room = args[0].stringValue ?? ""
            try Self.authorize(ctx, room: room, rooms: rooms)
            return .array(try rooms.join(ctx.session, room: room).map { $0.json(in: room) })
        })
        try runtime.registry.register(MethodDescriptor(
            MethodName.roomLeave,
            description: "Leaves a room; false when this session was not in it.",
            params: name, returns: ["type": "boolean"], roles: [Role.authenticated]
        ) { ctx, args in
            .bool(rooms.leave(ctx.session, room: args[0].stringValue ?? ""))
        })
        try runtime.registry.register(MethodDescriptor(
            MethodName.roomMembers,
            description: "A room's members on this node, oldest first: for a member of the room, or a session its roles admit.",
            params: name, returns: ["type": "array"], roles: [Role.authenticated], flags: .readonly
        ) { ctx, args in
            let room = args[0].stringValue ?? ""
            if !rooms.rooms(of: ctx.session).contains(room) { try Self.authorize(ctx, room: room, rooms: rooms) }
            return .array(rooms.members(of: room).map { $0.json(in: room) })
        })
        try runtime.registry.register(MethodDescriptor(
            MethodName.roomQuery,
            description: "The declared rooms and families, and every room with members, with the query language: name, "
                + "declared_by (the declaration's name), plugin, description, roles, members (a count).",
            params: QueryArguments.parameters, returns: true, roles: [Role.readonlyAdmin], flags: .readonly
        ) { _, args in
            let (filters, options) = try QueryArguments.parse(args)
            return try QueryEngine.run(Self.rows(rooms), filters: filters, options: options)
        })
    }

    /// EINVAL for a bad name, ENOENT for a room nobody declared, EACCES when the declaration's roles refuse.
    static func authorize(_ ctx: CallContext, room: String, rooms: RoomDirectory) throws(CallError) {
        if let problem = RoomDescriptor.problem(with: room, family: false) { throw CallError.validation("name", problem) }
        guard let descriptor = rooms.descriptor(for: room) else { throw CallError(Errno.ENOENT, "No room named \(room)") }
        guard ctx.credentials?.allows(anyOf: descriptor.roles) == true else { throw CallError.notAuthorized }
    }

    /// A row per declaration without members of its own name, and one per room with members.
    static func rows(_ rooms: RoomDirectory) -> [JSON] {
        let occupancy = rooms.occupancy
        let declarations = rooms.declarations
        func row(_ name: String, _ descriptor: RoomDescriptor, _ plugin: String) -> JSON {
            [
                "name": .string(name), "declared_by": .string(descriptor.name), "plugin": .string(plugin),
                "description": .string(descriptor.description), "roles": JSON(strings: descriptor.roles),
                "members": .int(Int64(occupancy[name] ?? 0)),
            ]
        }
        var rows: [JSON] = []
        for (descriptor, plugin) in declarations where descriptor.isFamily || occupancy[descriptor.name] == nil {
            rows.append(row(descriptor.name, descriptor, plugin))
        }
        for room in occupancy.keys.sorted() {
            guard let descriptor = rooms.descriptor(for: room),
                  let plugin = declarations.first(where: { $0.descriptor.name == descriptor.name })?.plugin else { continue }
            rows.append(row(room, descriptor, plugin))
        }
        return rows
    }
}
