/// Workers (Zephserver's services): declaring them, and reaching one as `get_service` does.
extension PluginContext {
    /// Declares a worker; it starts now if the configuration lists it (`dispatcher.workers`, or every worker when
    /// that lists none), and stops when this plugin unloads.
    /// - Throws: `CallError` EEXIST when another worker has the name.
    public func register(_ worker: WorkerDescriptor) throws {
        try runtime.workers.register(worker, plugin: plugin)
        ledger.withLock { $0.workers.append(worker.name) }
    }

    /// Stops and withdraws one of this plugin's workers.
    public func unregister(worker name: String) async {
        guard ledger.withLock({ $0.drop(name, from: \.workers) }) else { return }
        await runtime.workers.unregister(name)
    }

    /// Any plugin's worker, as Zephserver's `get_service` gives it: one that died is started again at once
    /// (a quarantined one is not hurried). Nil for an unknown name.
    public func worker(named name: String) -> WorkerStatus? {
        runtime.workers.resurrect(name)
    }
}
