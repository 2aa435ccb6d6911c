/// Where a plugin stands, as `plugin.query` shows it.
public enum PluginState: String, Sendable {
    /// Set up; what it registered is offered.
    case loaded
    /// Turned off in the configuration (`plugins.<name>.enabled: false`).
    case disabled
    /// Not loaded because a dependency is missing, disabled or not loaded, or in a cycle; `last_error` says which.
    case unloaded
    /// Its `setUp` threw (on a reload); what it had registered was withdrawn, and `last_error` holds the error.
    case failed
}
