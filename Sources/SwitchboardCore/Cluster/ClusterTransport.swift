/// Carries events between the daemons of a cluster (docs/cluster.md): what one node sends reaches every other
/// node, in the order the sender sent it, once. Core knows no database: a driver implements it (PostgreSQL's
/// stores each event as a row and rings NOTIFY as a doorbell).
public protocol ClusterTransport: Sendable {
    /// This node's name (`dispatcher.node-name`), the `origin` of what it sends.
    var nodeName: String { get }

    /// Starts receiving: `deliver` gets each batch of other nodes' events, each node's in its order, on one
    /// task (never two batches at once). Returns once the transport has checked that it can hear the others.
    /// - Throws: when it cannot (a pooler that drops notifications, an unreachable database).
    func start(deliver: @escaping @Sendable ([ClusterEvent]) -> Void) async throws

    /// Queues `event` for the other nodes, after everything this node queued before it. Never blocks; a
    /// transport that cannot keep up within its bound drops and says so (`dropped`).
    func send(_ event: Event)

    /// Waits until everything queued so far is stored for the other nodes to read.
    func flush() async throws

    /// Events refused because the queue was full (the database away for long): counted, logged, never silent.
    var dropped: Int { get }

    /// Stops receiving and sending; what was queued is stored first, within the transport's timeout.
    func stop() async
}
