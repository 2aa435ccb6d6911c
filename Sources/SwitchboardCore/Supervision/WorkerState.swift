/// Where a worker is in its life (`worker.query`'s `state`).
public enum WorkerState: String, Sendable, CaseIterable {
    /// Registered and not running: not listed in `dispatcher.workers`, or stopped by an operator.
    case available
    case running
    /// Being disabled: its `disable` runs, then its task is cancelled.
    case stopping
    /// Its `main` ended or threw; it starts again after the restart policy's delay, or at once when someone
    /// asks for it (`PluginContext.worker(named:)`, Zephserver's `get_service`).
    case failed
    /// It failed more often than the policy's intensity allows: retried every `maxDelay` only, until it once
    /// runs for the stable period; asking for it does not hurry it.
    case quarantined
}
