/// Where an event of a type is heard: on the node that emits it, or on every node of the cluster.
///
/// Cluster-wide are the events that announce shared state (a table's rows, a configuration, a job) and what
/// plugins `say`; each node's own doings (its sessions, plugin processes, event sources, alerts) stay on it, since
/// other nodes' clients could not act on them. On one node (SQLite) the two are the same.
public enum EventScope: String, Sendable {
    case node
    case cluster
}
