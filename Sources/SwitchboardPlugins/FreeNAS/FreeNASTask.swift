import SwitchboardCore

/// A job as FreeNAS 10 showed a task: its states (CREATED, WAITING, EXECUTING, FINISHED, FAILED, ABORTED),
/// `name` and `args` for the method and its arguments, `progress` as `{percentage, message, extra}`, and the
/// error as `{type, code, message, extra}`.
enum FreeNASTask {
    static func state(_ job: String) -> String {
        switch job {
        case JobState.waiting.rawValue: return "WAITING"
        case JobState.running.rawValue: return "EXECUTING"
        case JobState.success.rawValue: return "FINISHED"
        case JobState.failed.rawValue: return "FAILED"
        case JobState.aborted.rawValue: return "ABORTED"
        default: return job
        }
    }

    /// The task of a job in `core.get_jobs`'s shape.
    static func from(job: JSON) -> JSON {
        let state = state(job["state"]?.stringValue ?? "")
        var error: JSON = .null
        if let message = job["error"]?.stringValue {
            let info = job["exc_info"] ?? .null
            error = ["type": info["type"] ?? "CallError", "code": info["errno"] ?? .null, "message": .string(message), "extra": info["extra"] ?? .null]
        }
        let progress = job["progress"] ?? .null
        return [
            "id": job["id"] ?? .null,
            "name": job["method"] ?? .null,
            "args": job["arguments"] ?? [],
            "state": .string(state),
            "description": job["description"] ?? .null,
            "abortable": job["abortable"] ?? false,
            "created_at": job["time_started"] ?? .null,
            "started_at": state == "WAITING" ? .null : (job["time_started"] ?? .null),
            "finished_at": job["time_finished"] ?? .null,
            "result": job["result"] ?? .null,
            "error": error,
            "progress": [
                "percentage": progress["percent"] ?? (state == "FINISHED" ? 100 : 0),
                "message": progress["description"] ?? .string(state.lowercased().capitalized),
                "extra": progress["extra"] ?? .null,
            ],
            "parent": .null,
            "warnings": [],
        ]
    }

    /// FreeNAS 10's query params (`sort`, `single`, `limit`, `offset`, `count`, `select`) as Switchboard's query
    /// options (`order_by`, `get`, ...); Switchboard's own names pass through.
    static func options(_ params: JSON) -> JSON {
        guard var options = params.objectValue else { return params }
        if let sort = options.removeValue(forKey: "sort") {
            options["order_by"] = sort.stringValue.map { [.string($0)] } ?? sort
        }
        if let single = options.removeValue(forKey: "single") { options["get"] = single }
        return .object(options)
    }
}
