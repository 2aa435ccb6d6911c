/// Job locks held across the nodes of a cluster (docs/cluster.md): a lease per lock name, renewed by its node's
/// heartbeat, with a fencing token that rises with every grant. A node that dies stops renewing; its leases
/// are freed when a survivor declares it dead, and expire after the node timeout in any case.
public protocol ClusterLocks: Sendable {
    /// Takes `lock` for `job` of this node: its fencing token, or nil while another node holds it.
    func acquire(_ lock: String, job: Int64) async throws -> Int64?

    /// Gives it back (only the grant with this token: a lease that expired and went to another is left alone).
    func release(_ lock: String, token: Int64) async

    /// The node holding `lock` now, if any.
    func holder(_ lock: String) async throws -> String?
}
