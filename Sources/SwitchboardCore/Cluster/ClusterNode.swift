/// One daemon of a cluster as `cluster.nodes` shows it.
public struct ClusterNode: Sendable, Equatable {
    public enum State: String, Sendable {
        /// Running and beating.
        case up
        /// Stopped in order.
        case left
        /// Silent for longer than the node timeout, declared dead by a surviving node (which failed its jobs and
        /// freed its job locks).
        case dead
    }

    public var name: String
    /// Where its clients reach it (`dispatcher.listen` and port).
    public var address: String
    public var version: String
    /// Unix milliseconds.
    public var started: Int64
    public var lastSeen: Int64
    public var state: State

    public init(name: String, address: String, version: String, started: Int64, lastSeen: Int64, state: State) {
        self.name = name
        self.address = address
        self.version = version
        self.started = started
        self.lastSeen = lastSeen
        self.state = state
    }

    public var json: JSON {
        ["name": .string(name), "address": .string(address), "version": .string(version), "started": .int(started),
         "last_seen": .int(lastSeen), "state": .string(state.rawValue)]
    }
}
