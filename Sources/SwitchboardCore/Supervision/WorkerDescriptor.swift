/// A worker (Zephserver's service): a long-running unit a plugin declares, run and resurrected by the daemon.
///
/// ```swift
/// try context.register(WorkerDescriptor("backup.scheduler", description: "Starts due backups") { worker in
///     while !Task.isCancelled {
///         try await runDueBackups(worker.logger)
///         try await Task.sleep(for: .seconds(60))
///     }
/// })
/// ```
///
/// `main` runs until the worker is stopped (its task is then cancelled); if it returns or throws before that,
/// the worker has died and is started again under `policy`. `disable` (optional) is Zephserver's: it runs
/// first when the worker is stopped, for a `main` that waits on something cancellation does not reach.
public struct WorkerDescriptor: Sendable {
    public typealias Main = @Sendable (WorkerContext) async throws -> Void

    public let name: String
    public let description: String
    public let policy: RestartPolicy
    public let main: Main
    public let disable: (@Sendable () async -> Void)?

    public init(_ name: String, description: String = "", policy: RestartPolicy = RestartPolicy(),
                disable: (@Sendable () async -> Void)? = nil, main: @escaping Main) {
        self.name = name
        self.description = description
        self.policy = policy
        self.main = main
        self.disable = disable
    }
}
