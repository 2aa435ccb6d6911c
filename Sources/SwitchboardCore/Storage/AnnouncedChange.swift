/// A stored change and the event that announces it.
public struct AnnouncedChange: Sendable {
    /// The row's primary key.
    public var id: Int64
    public var event: Event
    /// True when the datastore stored the event for the other nodes with the change: the bus then publishes it
    /// on this node only (`EventBus.publish(_:)` of a change).
    public var relayed: Bool

    public init(id: Int64, event: Event, relayed: Bool) {
        self.id = id
        self.event = event
        self.relayed = relayed
    }
}
