import SwitchboardCore

/// `auth.sessions`, `auth.terminate_session` and `auth.terminate_other_sessions`, over the daemon's directory
/// of open connections. A terminated session's connection is closed at once (close code 1008).
enum SessionMethods {
    static func register(in context: PluginContext) throws {
        let directory = try context.sessions()

        try context.register(MethodDescriptor(
            MethodName.sessions,
            description: "Open sessions, with the query language: id, current, origin, dialect, credentials (the login mechanism), "
                + "credentials_data (the user), created_at. Without FULL_ADMIN only your own user's.",
            params: QueryArguments.parameters,
            returns: true, roles: [Role.authenticated], flags: .readonly
        ) { ctx, args in
            let (filters, options) = try QueryArguments.parse(args)
            let admin = ctx.credentials?.isFullAdmin == true
            let rows: [JSON] = directory.sessions
                .filter { admin || $0.credentials?.username == ctx.credentials?.username }
                .sorted { $0.createdAtMillis < $1.createdAtMillis }
                .map { row($0, current: $0 === ctx.session) }
            return try QueryEngine.run(rows, filters: filters, options: options)
        })

        try context.register(MethodDescriptor(
            "auth.terminate_session", description: "Closes the connection of another session, at once.",
            params: [Parameter("id", schema: ["type": "string"])], returns: ["type": "boolean"], roles: [Role.fullAdmin]
        ) { ctx, args in
            let id = args[0].stringValue ?? ""
            if id == ctx.session.id { throw CallError.validation("id", "This is the current session; use auth.logout") }
            guard directory.terminate(id: id) else { throw CallError(Errno.ENOENT, "No session \(id)") }
            ctx.logger.notice("session terminated", metadata: ["session": .string(id), "by": .string(ctx.credentials?.username ?? "")])
            return true
        })

        try context.register(MethodDescriptor(
            "auth.terminate_other_sessions", description: "Closes every other session of the current user.",
            returns: ["type": "boolean"], roles: [Role.authenticated]
        ) { ctx, _ in
            let username = ctx.credentials?.username
            for session in directory.sessions where session !== ctx.session && session.credentials?.username == username {
                directory.terminate(id: session.id)
            }
            return true
        })
    }

    static func row(_ session: Session, current: Bool) -> JSON {
        let credentials = session.credentials
        return [
            "id": .string(session.id),
            "current": .bool(current),
            "internal": .bool(session.origin == .internal),
            "origin": .string(session.origin.description),
            "dialect": .string(session.dialect),
            "credentials": credentials.map { .string($0.mechanism.rawValue) } ?? .null,
            "credentials_data": credentials.map { ["username": .string($0.username)] } ?? .null,
            "created_at": ["$date": .int(session.createdAtMillis)],
        ]
    }
}
