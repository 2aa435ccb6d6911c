/// One session in one room, as `room.members` and the room's events show it.
public struct RoomMember: Sendable {
    public let session: Session
    /// Who the session was logged in as when it joined.
    public let username: String
    /// Wall-clock milliseconds since the epoch.
    public let joinedAt: Int64

    /// The member's event id: unique across rooms, since one session can be in several and DDP clients keep
    /// one document per id and collection.
    func id(in room: String) -> String { room + "/" + session.id }

    func json(in room: String) -> JSON {
        [
            "id": .string(id(in: room)), "room": .string(room), "session": .string(session.id),
            "username": .string(username), "dialect": .string(session.dialect), "joined": ["$date": .int(joinedAt)],
        ]
    }

    func event(_ kind: EventKind, in room: String) -> Event {
        Event(name: RoomDirectory.eventName, kind: kind, id: .string(id(in: room)), fields: kind == .removed ? .null : json(in: room))
    }
}
