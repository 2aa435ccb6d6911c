/// Targeted push: a plugin's message delivered unasked to one session, a user's sessions, a room's members or
/// everyone, each in its own dialect, as an event of a type the plugin declared (whose roles still decide who
/// may receive it).
///
/// In a cluster, a push to a user, a room or everyone reaches the sessions of every node (each node delivers to
/// its own sessions and room members), and a push to a session another node holds reaches it there: the message
/// travels on the cluster's event relay, in order with the node's other events, never to a subscriber.
public final class PushDelivery: Sendable {
    /// The relay's name for a push travelling to the other nodes; never published to subscribers or handlers.
    static let relayName = "switchboard.push"

    let sessions: SessionDirectory
    let rooms: RoomDirectory
    let events: EventBus

    init(sessions: SessionDirectory, rooms: RoomDirectory, events: EventBus) {
        self.sessions = sessions
        self.rooms = rooms
        self.events = events
        events.onClusterMessage(Self.relayName) { [unowned events] relayed in
            guard let target = PushTarget(json: relayed.fields["target"] ?? .null), let event = Self.event(from: relayed.fields["event"] ?? .null) else {
                return
            }
            _ = Self.deliverHere(event, to: target, sessions: sessions, rooms: rooms, events: events)
        }
    }

    /// Pushes `event` to `target`; returns how many sessions of this node it reached.
    /// - Throws: `CallError` ENOENT when no event type has the event's name (declare it first: it says who may
    ///   receive the message, and documents it).
    @discardableResult
    public func push(_ event: Event, to target: PushTarget) throws(CallError) -> Int {
        guard events.type(event.name) != nil else {
            throw CallError(Errno.ENOENT, "No event type \(event.name): register it before pushing messages of it")
        }
        let reached = Self.deliverHere(event, to: target, sessions: sessions, rooms: rooms, events: events)
        if events.isClustered {
            var relayed = true
            if case .session(let id) = target { relayed = sessions.session(id: id) == nil }
            if relayed {
                events.sendToCluster(Event(name: Self.relayName, kind: .added, fields: ["target": target.json, "event": Self.json(of: event)]))
            }
        }
        return reached
    }

    static func deliverHere(_ event: Event, to target: PushTarget, sessions: SessionDirectory, rooms: RoomDirectory, events: EventBus) -> Int {
        let recipients: [Session]
        switch target {
        case .session(let id): recipients = sessions.session(id: id).map { [$0] } ?? []
        case .user(let name): recipients = sessions.sessions.filter { $0.credentials?.username == name }
        case .room(let name): recipients = rooms.members(of: name).map(\.session)
        case .everyone: recipients = sessions.sessions
        }
        return events.push(event, to: recipients)
    }

    static func json(of event: Event) -> JSON {
        var object: JSONObject = ["name": .string(event.name), "kind": .string(event.kind.rawValue), "id": event.id,
                                  "fields": event.fields, "extra": event.extra]
        if let owner = event.owner { object["owner"] = .string(owner) }
        return .object(object)
    }

    static func event(from json: JSON) -> Event? {
        guard let name = json["name"]?.stringValue, let kind = json["kind"]?.stringValue.flatMap(EventKind.init(rawValue:)) else { return nil }
        return Event(name: name, kind: kind, id: json["id"] ?? .null, fields: json["fields"] ?? .null, extra: json["extra"] ?? .null,
                     owner: json["owner"]?.stringValue)
    }
}
