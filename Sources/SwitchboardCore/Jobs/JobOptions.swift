/// How a job method runs: its lock, queueing, abort and visibility. Set per method.
public struct JobOptions: Sendable {
    /// The lock's name for a call, computed from its arguments; jobs holding the same lock run one at a time.
    public var lock: (@Sendable ([JSON]) -> String?)?
    /// How many jobs may wait for the lock. 0: a call while one runs fails EBUSY. When the queue is full the
    /// queued job's id is returned and the caller's message id added to it. `nil`: unbounded.
    public var lockQueueSize: Int?
    public var abortable: Bool
    /// No events, not kept after it ends.
    public var transient: Bool
    /// A line for job lists, computed from the arguments.
    public var description: (@Sendable ([JSON]) -> String?)?
    /// Opens a log file for the job at once (otherwise on its first log line).
    public var logs: Bool
    /// The transfers its calls carry: `.input` reads an upload (`POST /_upload`), `.output` writes a download
    /// (`core.download`). A call without them, or with others, is refused.
    public var pipes: JobPipeKinds = []

    public init(
        lock: (@Sendable ([JSON]) -> String?)? = nil, lockQueueSize: Int? = nil, abortable: Bool = false,
        transient: Bool = false, description: (@Sendable ([JSON]) -> String?)? = nil, logs: Bool = false, pipes: JobPipeKinds = []
    ) {
        self.pipes = pipes
        self.lock = lock
        self.lockQueueSize = lockQueueSize
        self.abortable = abortable
        self.transient = transient
        self.description = description
        self.logs = logs
    }

    /// A fixed lock name for every call.
    public static func locked(_ name: String, queueSize: Int? = nil, abortable: Bool = false) -> JobOptions {
        JobOptions(lock: { _ in name }, lockQueueSize: queueSize, abortable: abortable)
    }
}
