import SwitchboardCore
import Synchronization

/// What the room, push and session-manager tests drive, written against the plugin API as a third party would:
/// rooms `lobby.room.*` (any logged-in session) and `lobby.staff` (FULL_ADMIN), the message types `lobby.message`
/// (any session) and `lobby.secret` (FULL_ADMIN), a method that pushes, and a session manager that logs in a
/// connection whose `lobby_session` cookie it issued, as a web application's session cookie would.
struct LobbyPlugin: Plugin {
    let name = "lobby"
    let dependencies = ["user"]
    func setUp(_ context: PluginContext) async throws {
        let cookies = LobbyCookies()
        try context.register(RoomDescriptor("lobby.room.*", description: "Open rooms", roles: [Role.authenticated], maxMembers: 3))
        try context.register(RoomDescriptor("lobby.staff", description: "Administrators only"))
        try context.register(EventTypeDescriptor("lobby.message", description: "A pushed message", roles: [Role.authenticated]))
        try context.register(EventTypeDescriptor("lobby.secret", description: "A message for administrators"))
        let pushed = Atomic<Int64>(0)
        try context.register(MethodDescriptor(
            "lobby.push",
            params: [Parameter("target", schema: ["type": "object"]), Parameter("text", schema: ["type": "string"]),
                     Parameter("secret", schema: ["type": "boolean"], default: false),
                     Parameter("id", schema: ["type": ["integer", "null"]], default: .null)],
            returns: ["type": "integer"], roles: [Role.authenticated]
        ) { ctx, args in
            guard let target = PushTarget(json: args[0]) else { throw CallError.validation("target", "names no target") }
            let id = args[3].intValue ?? pushed.add(1, ordering: .relaxed).newValue
            let name = args[2].boolValue == true ? "lobby.secret" : "lobby.message"
            let event = Event(name: name, kind: .added, id: .int(id),
                              fields: ["text": args[1], "from": .string(ctx.credentials?.username ?? "")])
            return .int(Int64(try context.push(event, to: target)))
        })
        try context.register(MethodDescriptor("lobby.session", returns: ["type": "string"], roles: [Role.authenticated]) { ctx, _ in
            .string(ctx.session.id)
        })
        // A plugin may place its caller in a room its roles would not admit: `lobby.staff` here.
        try context.register(MethodDescriptor("lobby.enlist", returns: ["type": "array"], roles: [Role.authenticated]) { ctx, _ in
            .array(try context.join(ctx.session, room: "lobby.staff").map { .string($0.username) })
        })
        try context.register(MethodDescriptor(
            "lobby.issue_cookie", params: [Parameter("username", schema: ["type": "string"])], returns: ["type": "string"]
        ) { _, args in
            let value = Session.makeID()
            cookies.issued.withLock { $0[value] = args[0].stringValue ?? "" }
            return .string(value)
        })
        try context.register(SessionManagerDescriptor("lobby-cookie", description: "The lobby web application's session cookie") { request in
            guard let cookie = request.cookies["lobby_session"] else { return nil }
            guard let username = cookies.issued.withLock({ $0[cookie] }) else { throw CallError(Errno.EACCES, "unknown or expired lobby session") }
            let rows = try await context.call("user.query", [[["username", "=", .string(username)]]])
            guard let row = rows.arrayValue?.first else { throw CallError(Errno.EACCES, "the lobby session's user is gone") }
            return Credentials(username: username, userID: row["id"]?.intValue,
                               roles: Set((row["roles"]?.arrayValue ?? []).compactMap(\.stringValue)), mechanism: .sessionManager)
        })
    }
}

/// The cookies the lobby issued, by value: what a web application's session table would hold.
final class LobbyCookies: Sendable {
    let issued = Mutex<[String: String]>([:])
}
