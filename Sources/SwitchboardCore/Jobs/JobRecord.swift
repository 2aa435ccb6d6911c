import Foundation

/// Everything known about one job, as `core.get_jobs` shows it and the `jobs` table keeps it.
public struct JobRecord: Sendable {
    public var id: Int64
    /// The node that runs (or ran) the job: `dispatcher.node-name`.
    public var node: String
    public var method: String
    public var arguments: [JSON]
    public var messageIDs: [JSON]
    public var owner: String
    public var state: JobState
    public var percent: Int64?
    public var progressDescription: String?
    public var progressExtra: JSON
    public var result: JSON
    public var error: String?
    public var exception: String?
    public var errno: Int32?
    public var errorExtra: JSON
    public var description: String?
    public var abortable: Bool
    public var transient: Bool
    public var lock: String?
    public var logsPath: String?
    public var logsExcerpt: String?
    /// Milliseconds since the epoch.
    public var timeStarted: Int64
    public var timeFinished: Int64?

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// The client shape of spec/protocols.md ("Jobs as clients see them").
    public var json: JSON {
        var excInfo: JSON = .null
        if state == .failed || state == .aborted, error != nil {
            excInfo = [
                "type": .string(state == .aborted ? "ABORTED" : (errno == Errno.EINVAL && !errorExtra.isNull ? "VALIDATION" : "CallError")),
                "errno": errno.map { .int(Int64($0)) } ?? .null,
                "extra": errorExtra,
                "repr": .string(exception ?? error ?? ""),
            ]
        }
        return [
            "id": .int(id),
            "message_ids": .array(messageIDs),
            "method": .string(method),
            "arguments": .array(arguments),
            "transient": .bool(transient),
            "description": JSON(description),
            "abortable": .bool(abortable),
            "logs_path": JSON(logsPath),
            "logs_excerpt": JSON(logsExcerpt),
            "progress": ["percent": percent.map { .int($0) } ?? .null, "description": JSON(progressDescription), "extra": progressExtra],
            "result": result,
            "error": JSON(error),
            "exception": JSON(exception),
            "exc_info": excInfo,
            "state": .string(state.rawValue),
            "time_started": ["$date": .int(timeStarted)],
            "time_finished": timeFinished.map { ["$date": .int($0)] } ?? .null,
            "credentials": ["username": .string(owner)],
            "node": .string(node),
        ]
    }

    static let table = TableDefinition("jobs", columns: [
        .init("method", .text), .init("arguments", .json), .init("message_ids", .json), .init("owner", .text),
        .init("state", .text), .init("percent", .integer), .init("progress_description", .text), .init("progress_extra", .json),
        .init("result", .json), .init("error", .text), .init("exception", .text), .init("errno", .integer),
        .init("error_extra", .json), .init("description", .text), .init("abortable", .boolean), .init("transient", .boolean),
        .init("lock", .text), .init("logs_path", .text), .init("logs_excerpt", .text), .init("time_started", .integer),
        .init("time_finished", .integer), .init("node", .text),
    ])

    /// The row by position, in `table` order (the primary key first): what the journal writes.
    var columns: [JSON] {
        [
            .int(id), .string(method), .array(arguments), .array(messageIDs), .string(owner), .string(state.rawValue),
            percent.map { .int($0) } ?? .null, JSON(progressDescription), progressExtra, result, JSON(error), JSON(exception),
            errno.map { .int(Int64($0)) } ?? .null, errorExtra, JSON(description), .bool(abortable), .bool(transient),
            JSON(lock), JSON(logsPath), JSON(logsExcerpt), .int(timeStarted), timeFinished.map { .int($0) } ?? .null,
            .string(node),
        ]
    }

    init(id: Int64, node: String, method: String, arguments: [JSON], messageIDs: [JSON], owner: String, description: String?,
         abortable: Bool, transient: Bool, lock: String?) {
        self.id = id
        self.node = node
        self.method = method
        self.arguments = arguments
        self.messageIDs = messageIDs
        self.owner = owner
        self.state = .waiting
        self.progressExtra = .null
        self.result = .null
        self.errorExtra = .null
        self.description = description
        self.abortable = abortable
        self.transient = transient
        self.lock = lock
        self.timeStarted = Self.now()
    }

    init?(row: JSONObject) {
        guard let id = row["id"]?.intValue, let state = row["state"]?.stringValue.flatMap(JobState.init(rawValue:)) else { return nil }
        self.id = id
        // `JobManager.start` names the node of rows written before nodes had names; until then they have none.
        self.node = row["node"]?.stringValue ?? ""
        self.method = row["method"]?.stringValue ?? ""
        self.arguments = row["arguments"]?.arrayValue ?? []
        self.messageIDs = row["message_ids"]?.arrayValue ?? []
        self.owner = row["owner"]?.stringValue ?? ""
        self.state = state
        self.percent = row["percent"]?.intValue
        self.progressDescription = row["progress_description"]?.stringValue
        self.progressExtra = row["progress_extra"] ?? .null
        self.result = row["result"] ?? .null
        self.error = row["error"]?.stringValue
        self.exception = row["exception"]?.stringValue
        self.errno = row["errno"]?.intValue.map { Int32(truncatingIfNeeded: $0) }
        self.errorExtra = row["error_extra"] ?? .null
        self.description = row["description"]?.stringValue
        self.abortable = row["abortable"]?.boolValue ?? false
        self.transient = row["transient"]?.boolValue ?? false
        self.lock = row["lock"]?.stringValue
        self.logsPath = row["logs_path"]?.stringValue
        self.logsExcerpt = row["logs_excerpt"]?.stringValue
        self.timeStarted = row["time_started"]?.intValue ?? 0
        self.timeFinished = row["time_finished"]?.intValue
    }

    /// The error a waiter of this job receives.
    public var callError: CallError? {
        switch state {
        case .failed: return CallError(errno ?? Errno.EFAULT, error ?? "Job failed", extra: errorExtra)
        case .aborted: return CallError(Errno.ECANCELED, error ?? "Job aborted")
        default: return nil
        }
    }
}
