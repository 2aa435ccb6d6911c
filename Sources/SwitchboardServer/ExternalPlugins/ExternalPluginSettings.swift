import SwitchboardCore

/// How external plugins are run and supervised (`dispatcher.plugin-*` keys, docs/configuration.md).
public struct ExternalPluginSettings: Sendable, Equatable {
    /// Folders searched for plugins: every executable file, and every `*.py` file (run by the Python host).
    public var directories: [String] = []
    /// The interpreter for `*.py` plugins.
    public var python = "python3"
    /// The Python host module (sdk/python/switchboard_plugin.py); nil: found next to the executable.
    public var pythonHost: String?
    /// From start to `plugin.ready`; longer and the plugin is killed and restarted.
    public var handshakeTimeout: Duration = .seconds(10)
    /// A method call forwarded to a plugin that has not answered by then fails ETIMEDOUT and is cancelled.
    public var callTimeout: Duration = .seconds(60)
    /// After SIGTERM, how long a plugin may take to exit before SIGKILL.
    public var stopGrace: Duration = .seconds(5)
    /// The longest line a plugin may send on its protocol socket; longer kills and restarts it.
    public var maxLine = 16 * 1024 * 1024
    /// Requests of a plugin waiting for the daemon (its `daemon.call`s); more is a flood that kills it.
    public var maxPendingRequests = 256
    public var restart = RestartPolicy()

    public init() {}
}
