/// A worker as `worker.query` and `PluginContext.worker(named:)` show it; also each event source's producers and
/// each external plugin's process, which `worker.query` lists in the same shape (`kind`).
public struct WorkerStatus: Sendable, Equatable {
    /// What is supervised: a plugin's worker, an event source's producer for one argument, or an external
    /// plugin's process. Only workers are started and stopped with `worker.*`.
    public enum Kind: String, Sendable {
        case worker
        case eventSource = "event_source"
        case plugin
    }

    public let kind: Kind
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

    public init(name: String, plugin: String, description: String, state: WorkerState, restarts: Int, lastError: String?,
                startedAt: Int64?, kind: Kind = .worker) {
        self.kind = kind
        self.name = name
        self.plugin = plugin
        self.description = description
        self.state = state
        self.restarts = restarts
        self.lastError = lastError
        self.startedAt = startedAt
    }

    public var json: JSON {
        [
            "name": .string(name), "kind": .string(kind.rawValue), "plugin": .string(plugin), "description": .string(description),
            "state": .string(state.rawValue), "restarts": .int(Int64(restarts)),
            "last_error": lastError.map(JSON.string) ?? .null,
            "started_at": startedAt.map { ["$date": .int($0)] } ?? .null,
        ]
    }
}
