import SwitchboardCore

/// Rooms, targeted push and session managers for an external plugin: the same `PluginContext` calls a compiled-in
/// plugin makes, reached over the link.
extension ExternalPlugin {
    /// `session.push`: `target` (`{"session": id}`, `{"user": name}`, `{"room": name}` or `{"everyone": true}`),
    /// `name` (an event type), `kind` (default `added`), `id`, `fields`. Answers how many of this node's sessions
    /// it reached.
    func push(_ params: JSON, in context: PluginContext) throws(CallError) -> JSON {
        guard let target = PushTarget(json: params["target"] ?? .null) else {
            throw CallError.validation("session.push.target", "must be {\"session\": id}, {\"user\": name}, {\"room\": name} or {\"everyone\": true}")
        }
        guard let name = params["name"]?.stringValue, !name.isEmpty else {
            throw CallError.validation("session.push.name", "must be an event type's name")
        }
        var kind = EventKind.added
        if let text = params["kind"]?.stringValue {
            guard let parsed = EventKind(rawValue: text) else { throw CallError.validation("session.push.kind", "must be added, changed or removed") }
            kind = parsed
        }
        let event = Event(name: name, kind: kind, id: params["id"] ?? .null, fields: params["fields"] ?? .null)
        return .int(Int64(try context.push(event, to: target)))
    }

    /// `session.join_room` (`session`, `room`): puts an open session in a declared room whatever its roles, as a
    /// compiled-in plugin's `context.join` does; answers the members' session ids, oldest first.
    func join(_ params: JSON, in context: PluginContext) throws(CallError) -> JSON {
        let (session, room) = try sessionAndRoom(params, "session.join_room")
        return .array(try context.join(session: session, room: room).map { .string($0.session.id) })
    }

    /// `session.leave_room` (`session`, `room`): false when the session was not in it.
    func leave(_ params: JSON, in context: PluginContext) throws(CallError) -> JSON {
        let (session, room) = try sessionAndRoom(params, "session.leave_room")
        return .bool(context.leave(session: session, room: room))
    }

    private func sessionAndRoom(_ params: JSON, _ method: String) throws(CallError) -> (String, String) {
        guard let session = params["session"]?.stringValue else { throw CallError.validation("\(method).session", "must be a session id") }
        guard let room = params["room"]?.stringValue else { throw CallError.validation("\(method).room", "must be a room name") }
        return (session, room)
    }

    /// Asks the plugin's session manager about an upgrade request (`session.authenticate`). The plugin answers
    /// null (not its to judge), `{"username", "roles", "user_id"}`, or an error (a refused proof). While the plugin
    /// is down nothing is judged: a restarting plugin must not lock users out.
    func judge(_ manager: String, _ request: UpgradeRequest) async throws -> Credentials? {
        guard let link = try? runningLink() else {
            logger.info("session manager not asked: its plugin is not running", metadata: ["manager": .string(manager)])
            return nil
        }
        let answer = try await link.request("session.authenticate", ["manager": .string(manager), "request": Self.json(request)],
                                            deadline: .now + SessionManagers.timeout)
        if answer.isNull { return nil }
        guard let username = answer["username"]?.stringValue, !username.isEmpty,
              let roles = answer["roles"]?.arrayValue, roles.allSatisfy({ $0.stringValue != nil })
        else {
            throw CallError(Errno.EFAULT, "session manager \(manager) answered neither null nor {username, roles}")
        }
        return Credentials(username: username, userID: answer["user_id"]?.intValue, roles: Set(roles.compactMap(\.stringValue)),
                           mechanism: .sessionManager)
    }

    static func json(_ request: UpgradeRequest) -> JSON {
        var cookies: JSONObject = [:]
        for (name, value) in request.cookies.sorted(by: { $0.key < $1.key }) { cookies[name] = .string(value) }
        return [
            "path": .string(request.path), "query": .string(request.query),
            "headers": .array(request.headers.map { [.string($0.name), .string($0.value)] }), "cookies": .object(cookies),
            "origin": .string(request.origin.description), "encrypted": .bool(request.encrypted), "dialect": .string(request.dialect),
        ]
    }
}
