/// Facts about the daemon a plugin may report or use.
public struct DaemonInfo: Sendable {
    /// Switchboard's version (`0.1.0`).
    public let version: String
    public let startedAt: ContinuousClock.Instant
    /// Where plugins may keep files; created at start.
    public let stateDirectory: String
    /// This node's name (`dispatcher.node-name`): who runs a job, in a cluster's shared tables.
    public let nodeName: String
    /// The key that seals secrets the datastore keeps (`security.secret-key-file`; default
    /// `<state-dir>/secret.key`): kept outside the database, so that a copy of it alone gives no secret away.
    public let secretKeyFile: String
}
