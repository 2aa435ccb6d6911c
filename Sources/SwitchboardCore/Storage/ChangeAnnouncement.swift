/// How to announce a change to a table: the event, made from the row as stored (nil for a removed row).
///
/// A datastore that carries events between nodes stores the event in the change's own transaction, so that no
/// node ever sees the change without its event or the event without the change, whatever dies in between.
public struct ChangeAnnouncement: Sendable {
    public let make: @Sendable (_ id: Int64, _ row: JSONObject?) -> Event

    public init(_ make: @escaping @Sendable (_ id: Int64, _ row: JSONObject?) -> Event) {
        self.make = make
    }
}
