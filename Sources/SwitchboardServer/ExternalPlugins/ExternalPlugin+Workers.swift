import SwitchboardCore

/// A worker an external plugin declares (Zephserver's service, in any language): the daemon supervises it as any
/// worker, and each run is a `worker.run` to the plugin, ended by the plugin's `worker.end` or its death.
extension ExternalPlugin {
    /// One run of the worker: returns when the plugin says the run ended without an error (a worker that returns
    /// before it is stopped has died, and is restarted under its policy), throws when it ended with one or the
    /// plugin died. Cancelled (the worker stopped), it tells the plugin `worker.disable` and returns at once.
    func runWorker(_ name: String, _ worker: WorkerContext) async throws {
        let link = try await linkWhenRunning()
        let run = state.withLock { $0.issueToken() }
        let ended = OneShot<CallError?>()
        state.withLock { $0.workerRuns[run] = ended }
        defer { _ = state.withLock { $0.workerRuns.removeValue(forKey: run) } }
        link.notify("worker.run", ["worker": .string(name), "run": .string(run), "attempt": .int(Int64(worker.run))])
        guard let outcome = await ended.wait() else {
            link.notify("worker.disable", ["worker": .string(name), "run": .string(run)])
            throw CancellationError()
        }
        if let error = outcome { throw error }
    }

    /// The link once the process runs. A worker declared during the handshake starts before that, and one whose
    /// plugin is restarting waits for it (a stop cancels the wait): a plugin's restart is not its workers' death
    /// over and over. Polled, since a start is rare and this wait is at most the plugin's restart delay.
    private func linkWhenRunning() async throws -> PluginLink {
        while true {
            let (link, phase) = state.withLock { ($0.running?.link, $0.phase) }
            if let link { return link }
            guard phase == .starting || phase == .restarting else { throw unavailable(phase) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The plugin's `worker.end`: a run it reports ended. A run the daemon no longer waits for (stopped, or its
    /// plugin restarted since) is let go silently: the report and the stop crossed.
    func workerEnded(_ params: JSON) -> String? {
        guard let run = params["run"]?.stringValue else { return "worker.end without a run" }
        let error = params["error"]?.stringValue.map { CallError(Errno.EFAULT, "worker of plugin \(name) failed: \($0)") }
        state.withLock { $0.workerRuns[run] }?.resolve(error)
        return nil
    }
}
