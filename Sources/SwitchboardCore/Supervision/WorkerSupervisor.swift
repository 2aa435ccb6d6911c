import Foundation
import Logging
import Synchronization

/// Runs the workers plugins declare (Zephserver's service manager): starts those the configuration lists
/// (`dispatcher.workers`; all when it lists none), restarts one that dies under its restart policy (backoff
/// with jitter, quarantine past the intensity limit), resurrects a dead one at once when someone asks for it
/// (`PluginContext.worker(named:)`, Zephserver's `get_service`), and stops them: `disable` first, then the
/// task is cancelled. Every change of state is a `worker.query` event.
///
/// Bounds: one task per running worker, and while it waits to restart one more (its backoff nap, which a
/// resurrection cancels). A worker whose `main` ignores cancellation is given `stopGrace`, then left to finish
/// on its own and shown `available`, with a warning.
public final class WorkerSupervisor: Sendable {
    struct Entry {
        let descriptor: WorkerDescriptor
        let plugin: String
        var state = WorkerState.available
        var record = RestartPolicy.Record()
        var lastError: String?
        var startedAt: Int64?
        var task: Task<Void, Never>?
        var nap: Task<Void, Never>?
        /// Asked for while its death was being recorded, before its nap began: the nap is cut short at once.
        var hurry = false

        func status(_ name: String) -> WorkerStatus {
            WorkerStatus(name: name, plugin: plugin, description: descriptor.description, state: state, restarts: record.restarts,
                         lastError: lastError, startedAt: startedAt)
        }
    }

    struct State {
        var entries: [String: Entry] = [:]
        /// The workers to start when registered; nil starts every worker.
        var configured: Set<String>?
    }

    public static let eventName = MethodName.workerQuery
    let logger: Logger
    let events: EventBus
    let stopGrace: Duration
    private let state = Mutex(State())

    init(logger: Logger, events: EventBus, stopGrace: Duration = .seconds(10)) {
        self.logger = logger
        self.events = events
        self.stopGrace = stopGrace
    }

    /// Which workers start when their plugin registers them (`dispatcher.workers`); nil: all of them.
    public func configure(start names: [String]?) {
        state.withLock { $0.configured = names.map(Set.init) }
    }

    /// The names the configuration lists that no loaded plugin declares.
    public var missing: [String] {
        state.withLock { state in (state.configured ?? []).filter { state.entries[$0] == nil }.sorted() }
    }

    public var all: [WorkerStatus] {
        state.withLock { state in state.entries.sorted { $0.key < $1.key }.map { $0.value.status($0.key) } }
    }

    public func status(_ name: String) -> WorkerStatus? {
        state.withLock { $0.entries[name]?.status(name) }
    }

    // MARK: - Registration

    func register(_ descriptor: WorkerDescriptor, plugin: String) throws(CallError) {
        let start = state.withLock { state -> Bool? in
            guard state.entries[descriptor.name] == nil else { return nil }
            state.entries[descriptor.name] = Entry(descriptor: descriptor, plugin: plugin)
            return state.configured?.contains(descriptor.name) ?? true
        }
        guard let start else { throw CallError(Errno.EEXIST, "Worker \(descriptor.name) is already registered") }
        announce(.added, descriptor.name)
        if start { _ = try? self.start(descriptor.name) }
    }

    /// Stops the worker and forgets it (its plugin is unloading).
    func unregister(_ name: String) async {
        _ = try? await stop(name)
        let status = state.withLock { $0.entries.removeValue(forKey: name)?.status(name) }
        if let status {
            events.publish(Self.eventName) { Event(name: Self.eventName, kind: .removed, id: .string(name), fields: status.json) }
        }
    }

    // MARK: - Operations

    /// Starts a worker that is not running (an available, failed or quarantined one starts now, its failure
    /// record kept); a running one is left as it is.
    /// - Throws: `CallError` ENOENT for an unknown worker, EBUSY while it is stopping.
    @discardableResult
    public func start(_ name: String) throws(CallError) -> WorkerStatus {
        let outcome = state.withLock { state -> Result<(WorkerStatus, Bool), CallError> in
            guard var entry = state.entries[name] else { return .failure(CallError(Errno.ENOENT, "No worker named \(name)")) }
            switch entry.state {
            case .running: return .success((entry.status(name), false))
            case .stopping: return .failure(CallError.busy("Worker \(name) is stopping"))
            case .failed, .quarantined:
                // Waiting to restart: the nap ends now and the loop starts the next run.
                if let nap = entry.nap { nap.cancel() } else { entry.hurry = true }
                state.entries[name] = entry
                return .success((entry.status(name), false))
            case .available:
                entry.state = .running
                entry.startedAt = Session.wallClockMillis
                entry.lastError = nil
                state.entries[name] = entry
                return .success((entry.status(name), true))
            }
        }
        let (status, launch) = try outcome.get()
        if launch {
            let task = Task { await self.supervise(name) }
            state.withLock { $0.entries[name]?.task = task }
            announce(.changed, name)
        }
        return launch ? (self.status(name) ?? status) : status
    }

    /// Stops a worker: its `disable`, then its task cancelled, waiting up to `stopGrace` for it to end.
    /// - Throws: `CallError` ENOENT for an unknown worker.
    @discardableResult
    public func stop(_ name: String) async throws(CallError) -> WorkerStatus {
        let found = state.withLock { state -> (Task<Void, Never>?, Task<Void, Never>?, WorkerDescriptor, Bool)? in
            guard var entry = state.entries[name] else { return nil }
            guard entry.state != .available && entry.state != .stopping else { return (nil, nil, entry.descriptor, false) }
            entry.state = .stopping
            state.entries[name] = entry
            return (entry.task, entry.nap, entry.descriptor, true)
        }
        guard let (task, nap, descriptor, stopping) = found else { throw CallError(Errno.ENOENT, "No worker named \(name)") }
        guard stopping else { return try current(name) }
        announce(.changed, name)
        if let disable = descriptor.disable {
            _ = await Deadline.finishes(within: stopGrace) { await disable() }
        }
        nap?.cancel()
        task?.cancel()
        if let task, !(await Deadline.finishes(within: stopGrace) { await task.value }) {
            logger.warning("worker did not stop within its grace; left to finish on its own",
                           metadata: ["worker": .string(name), "grace_ms": .stringConvertible(stopGrace.components.seconds * 1000)])
        }
        state.withLock { state in
            state.entries[name]?.state = .available
            state.entries[name]?.task = nil
            state.entries[name]?.nap = nil
            state.entries[name]?.startedAt = nil
        }
        announce(.changed, name)
        return try current(name)
    }

    /// The worker's row, or ENOENT (unregistered meanwhile).
    private func current(_ name: String) throws(CallError) -> WorkerStatus {
        guard let status = status(name) else { throw CallError(Errno.ENOENT, "No worker named \(name)") }
        return status
    }

    /// Stops it, then starts it.
    @discardableResult
    public func restart(_ name: String) async throws(CallError) -> WorkerStatus {
        try await stop(name)
        return try start(name)
    }

    /// Zephserver's `get_service`: the worker, started again at once if it died (quarantine is not hurried).
    public func resurrect(_ name: String) -> WorkerStatus? {
        let nap = state.withLock { state -> Task<Void, Never>? in
            guard let entry = state.entries[name], entry.state == .failed else { return nil }
            if entry.nap == nil { state.entries[name]?.hurry = true }
            return entry.nap
        }
        nap?.cancel()
        return status(name)
    }

    /// Stops every worker (the daemon is stopping).
    public func stopAll() async {
        let names = state.withLock { Array($0.entries.keys) }
        for name in names { _ = try? await stop(name) }
    }

    // MARK: - Running

    /// One worker's life: run `main`; when it ends or throws (not stopped), record the failure, wait out the
    /// policy's delay (a resurrection cuts it short) and run it again.
    private func supervise(_ name: String) async {
        var run = 0
        var started = ContinuousClock.now
        while !Task.isCancelled {
            guard let descriptor = state.withLock({ $0.entries[name]?.descriptor }) else { return }
            var runLogger = logger
            runLogger[metadataKey: "worker"] = .string(name)
            let outcome: String
            do {
                try await descriptor.main(WorkerContext(name: name, run: run, logger: runLogger))
                outcome = "main returned"
            } catch {
                outcome = (error as? CallError)?.reason ?? String(describing: error)
            }
            if Task.isCancelled { return }
            let decision = state.withLock { state -> RestartPolicy.Decision? in
                guard var entry = state.entries[name], entry.state == .running else { return nil }
                let decision = entry.record.failed(at: .now, startedAt: started, policy: descriptor.policy)
                if case .quarantine = decision { entry.state = .quarantined } else { entry.state = .failed }
                entry.lastError = outcome
                entry.startedAt = nil
                state.entries[name] = entry
                return decision
            }
            guard let decision else { return }
            let delay: Duration
            switch decision {
            case .restart(let after):
                delay = after
                logger.error("worker died; restarting", metadata: ["worker": .string(name), "reason": .string(outcome),
                                                                    "delay_ms": .stringConvertible(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)])
            case .quarantine(let retryAfter):
                delay = retryAfter
                logger.critical("worker quarantined: it failed too often", metadata: ["worker": .string(name), "reason": .string(outcome),
                                                                                        "retry_s": .stringConvertible(retryAfter.components.seconds)])
            }
            announce(.changed, name)
            let nap = Task { _ = try? await Task.sleep(for: delay) }
            let stillOurs = state.withLock { state -> Bool in
                guard state.entries[name]?.state == .failed || state.entries[name]?.state == .quarantined else { return false }
                state.entries[name]?.nap = nap
                if state.entries[name]?.hurry == true {
                    state.entries[name]?.hurry = false
                    nap.cancel()
                }
                return true
            }
            guard stillOurs else {
                nap.cancel()
                return
            }
            await nap.value
            if Task.isCancelled { return }
            let resumed = state.withLock { state -> Bool in
                guard var entry = state.entries[name], entry.state == .failed || entry.state == .quarantined else { return false }
                entry.state = .running
                entry.nap = nil
                entry.hurry = false
                entry.startedAt = Session.wallClockMillis
                state.entries[name] = entry
                return true
            }
            guard resumed else { return }
            announce(.changed, name)
            run += 1
            started = .now
        }
    }

    private func announce(_ kind: EventKind, _ name: String) {
        guard let status = status(name) else { return }
        events.publish(Self.eventName) { Event(name: Self.eventName, kind: kind, id: .string(name), fields: status.json) }
    }
}
