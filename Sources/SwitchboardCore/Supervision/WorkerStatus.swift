/// A worker as `worker.query` and `PluginContext.worker(named:)` show it.
public struct WorkerStatus: Sendable, Equatable {
    public let name: String
    public let plugin: String
    public let description: String
    public let state: WorkerState
    /// Restarts decided since the worker was registered.
    public let restarts: Int
    /// Why it last died, while it is failed or quarantined.
    public let lastError: String?
    /// When its current run started (epoch milliseconds), while it runs.
    public let startedAt: Int64?

    public var json: JSON {
        [
            "name": .string(name), "plugin": .string(plugin), "description": .string(description),
            "state": .string(state.rawValue), "restarts": .int(Int64(restarts)),
            "last_error": lastError.map(JSON.string) ?? .null,
            "started_at": startedAt.map { ["$date": .int($0)] } ?? .null,
        ]
    }
}
