import Logging

/// What a worker's `main` receives: its name, which run this is, and a logger whose lines name the worker.
public struct WorkerContext: Sendable {
    public let name: String
    /// 0 for the first run, then one more for each restart.
    public let run: Int
    public let logger: Logger
}
