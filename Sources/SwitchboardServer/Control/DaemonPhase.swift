/// Where the daemon is in its life, as `switchboard ctl status` and `wait-ready` report it.
public enum DaemonPhase: String, Sendable {
    /// Opening the datastore, loading plugins: no listener is open yet.
    case starting
    /// Every listener is open.
    case ready
    /// Plugins are being reloaded (SIGHUP, `ctl reload`); calls are still served.
    case reloading
    /// A stop was asked for: listeners close, jobs get their grace, then plugins and the datastore close.
    case stopping
}
