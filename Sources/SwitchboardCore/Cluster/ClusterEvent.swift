/// An event as it travels between the daemons of a cluster: the node that emitted it and its place in that
/// node's order. Each node numbers its events 1, 2, 3, … in the order they were stored; a receiver that has
/// seen `sequence` n of a node has seen every earlier one, once.
public struct ClusterEvent: Sendable, Equatable {
    public var origin: String
    public var sequence: Int64
    public var event: Event

    public init(origin: String, sequence: Int64, event: Event) {
        self.origin = origin
        self.sequence = sequence
        self.event = event
    }
}
