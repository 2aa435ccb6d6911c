import Foundation
import Logging
import Synchronization
import SwitchboardCore

/// What the control methods reach of the daemon that runs them (its phase, plugin loader, logging, and how to
/// stop it), bound as the daemon starts: the control plugin is set up before the daemon has its listeners.
///
/// Reloads go through here whoever asks (SIGHUP or `ctl reload`), one at a time (the loader serialises them),
/// with the phase set to `reloading` meanwhile.
public final class DaemonControl: Sendable {
    struct State {
        var phase = DaemonPhase.starting
        var loader: PluginLoader?
        var stop: (@Sendable () async -> Void)?
        var reloads = 0
        var datastore = ""
    }

    let logging: DaemonLogging?
    let logger: Logger
    /// systemd, told of each phase when it started the daemon with `Type=notify`.
    let notifier: SystemdNotifier?
    private let state = Mutex(State())

    init(logging: DaemonLogging?, logger: Logger, notifier: SystemdNotifier?) {
        self.logging = logging
        self.logger = logger
        self.notifier = notifier
    }

    var phase: DaemonPhase { state.withLock { $0.phase } }
    var datastore: String { state.withLock { $0.datastore } }

    func bind(loader: PluginLoader, datastore: String, stop: @escaping @Sendable () async -> Void) {
        state.withLock {
            $0.loader = loader
            $0.datastore = datastore
            $0.stop = stop
        }
    }

    /// Every listener is open: `status` says what they are.
    func ready(status: String) {
        let first = state.withLock { state -> Bool in
            guard state.phase == .starting else { return false }
            state.phase = .ready
            return true
        }
        if first { notifier?.send(["READY=1", "STATUS=ready: \(status)", "MAINPID=\(getpid())"]) }
    }

    func stopping() {
        let first = state.withLock { state -> Bool in
            defer { state.phase = .stopping }
            return state.phase != .stopping
        }
        if first { notifier?.send(["STOPPING=1", "STATUS=stopping"]) }
    }

    /// Asks the daemon to stop as SIGTERM does.
    func stop() async {
        let stop = state.withLock { state -> (@Sendable () async -> Void)? in
            state.phase = .stopping
            return state.stop
        }
        await stop?()
    }

    /// Reloads the named plugins and those that depend on them (every plugin when nil), with the configuration
    /// read again. - Returns: the reloaded plugins' entries.
    func reload(_ names: [String]?) async throws -> [JSON] {
        let (loader, told) = state.withLock { state -> (PluginLoader?, Bool) in
            guard let loader = state.loader else { return (nil, false) }
            state.reloads += 1
            guard state.phase == .ready else { return (loader, false) }
            state.phase = .reloading
            return (loader, true)
        }
        guard let loader else { throw CallError(Errno.EAGAIN, "The daemon is still starting; nothing to reload yet") }
        if told { notifier?.send(["RELOADING=1", SystemdNotifier.monotonicMicroseconds, "STATUS=reloading plugins"]) }
        defer {
            let back = state.withLock { state -> Bool in
                state.reloads -= 1
                guard state.reloads == 0 && state.phase == .reloading else { return false }
                state.phase = .ready
                return true
            }
            if back { notifier?.send(["READY=1", "STATUS=ready"]) }
        }
        return try await loader.reload(names)
    }

    /// Every plugin's entry, in load order.
    var plugins: [JSON] {
        get async {
            guard let loader = state.withLock({ $0.loader }) else { return [] }
            return await loader.query
        }
    }

    /// Sets the level of every logger. - Returns: the level before.
    func setLogLevel(_ level: Logger.Level) throws -> Logger.Level {
        guard let logging else {
            throw CallError(Errno.ENOTSUP, "This daemon's logging is not its own (embedded): its level cannot be changed here")
        }
        let previous = logging.level
        logging.setLevel(level)
        logger.notice("log level changed", metadata: ["from": .string(previous.rawValue), "to": .string(level.rawValue)])
        return previous
    }
}
