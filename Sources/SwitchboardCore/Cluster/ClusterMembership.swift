/// Who is in the cluster (docs/cluster.md): each node keeps a row that it renews every heartbeat, and a node
/// silent for longer than the node timeout is declared dead by exactly one of the survivors. Core knows no
/// database: the PostgreSQL driver implements it with a nodes table.
public protocol ClusterMembership: Sendable {
    /// Writes this node's row (state up) and beats until `leave`. Each beat also looks for silent nodes; a node
    /// this node declares dead goes to `declared` with how long it had been silent (on the datastore's clock), once
    /// in the whole cluster, and nodes whose state changed
    /// (joined, left, declared dead) are what the node's `cluster.nodes` events tell. `fenced` is told (once per
    /// outage, with why) when this node must stop acting as a member: it could not renew its row for longer than
    /// the node timeout, or found itself declared dead, so the others have failed its jobs and taken its locks.
    func join(_ node: ClusterNode, declared: @escaping @Sendable (ClusterNode, Duration) async -> Void,
              fenced: @escaping @Sendable (String) async -> Void) async throws

    /// Every node that has been in the cluster, by name.
    func nodes() async throws -> [ClusterNode]

    /// Marks this node as left and stops beating.
    func leave() async
}
