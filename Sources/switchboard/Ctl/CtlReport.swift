import Foundation
import SwitchboardCore

/// The human-readable forms of the control answers: a few aligned lines an operator reads at a glance.
enum CtlReport {
    static func status(_ status: JSON) -> String {
        var lines: [String] = []
        let phase = status["phase"]?.stringValue ?? "?"
        lines.append("switchboard \(status["version"]?.stringValue ?? "?"), pid \(status["pid"]?.intValue ?? 0), node "
                     + "\(status["node"]?.stringValue ?? "?"): \(phase), up \(duration(status["uptime_seconds"]?.doubleValue ?? 0))")
        lines.append(row("datastore", status["datastore"]?.stringValue ?? "?"))
        if let level = status["log_level"]?.stringValue { lines.append(row("log level", level)) }
        var memory = "?"
        if let resident = status["memory"]?["resident_bytes"]?.intValue {
            memory = "\(bytes(resident)) resident"
            if let peak = status["memory"]?["peak_resident_bytes"]?.intValue { memory += " (peak \(bytes(peak)))" }
        }
        lines.append(row("memory", memory))
        if let open = status["open_files"]?.intValue {
            lines.append(row("open files", "\(open) of \(status["open_file_limit"]?.intValue ?? 0)"))
        }
        let connections = (status["connections"]?.objectValue ?? [:]).sorted { $0.key < $1.key }
        lines.append(row("connections", connections.isEmpty ? "none" : connections.map { "\($0.key) \($0.value.intValue ?? 0)" }.joined(separator: ", ")))
        let jobs = status["jobs"]
        lines.append(row("jobs", "running \(jobs?["RUNNING"]?.intValue ?? 0), waiting \(jobs?["WAITING"]?.intValue ?? 0), "
                         + "finished (kept) \(jobs?["finished"]?.intValue ?? 0)"))
        let plugins = status["plugins"]?.arrayValue ?? []
        lines.append(row("plugins", "\(plugins.filter { $0["state"] == "loaded" }.count) of \(plugins.count) loaded"))
        lines.append(Self.plugins(plugins))
        return lines.joined(separator: "\n")
    }

    static func plugins(_ entries: [JSON]) -> String {
        let width = entries.map { $0["name"]?.stringValue?.count ?? 0 }.max() ?? 0
        return entries.map { entry in
            let name = entry["name"]?.stringValue ?? "?"
            var line = "  " + name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + (entry["state"]?.stringValue ?? "?")
            if entry["kind"] == "external" { line += " (external)" }
            if let restarts = entry["status"]?["restarts"]?.intValue, restarts > 0 { line += ", \(restarts) restarts" }
            if let error = entry["last_error"]?.stringValue { line += ": \(error)" }
            return line
        }.joined(separator: "\n")
    }

    static func dump(_ dump: JSON) -> String {
        var lines: [String] = []
        let sessions = dump["sessions"]?.arrayValue ?? []
        lines.append("sessions (\(sessions.count)):")
        for session in sessions {
            var line = "  \(session["id"]?.stringValue ?? "?")  \(session["dialect"]?.stringValue ?? "?")  \(session["origin"]?.stringValue ?? "?")"
            line += "  \(session["user"]?.stringValue ?? "(not logged in)")"
            line += "  calls running \(session["calls_running"]?.intValue ?? 0), queued \(session["calls_queued"]?.intValue ?? 0)"
            if session["current"] == true { line += "  (this command)" }
            lines.append(line)
            for call in session["calls"]?.arrayValue ?? [] {
                let seconds = call["seconds"]?.doubleValue ?? 0
                lines.append("    \(call["method"]?.stringValue ?? "?")  \(call["state"]?.stringValue ?? "?") \(String(format: "%.3f", seconds)) s")
            }
        }
        let jobs = dump["jobs"]?.arrayValue ?? []
        lines.append("unfinished jobs (\(jobs.count)):")
        for job in jobs {
            var line = "  \(job["id"]?.intValue ?? 0)  \(job["method"]?.stringValue ?? "?")  \(job["state"]?.stringValue ?? "?")"
            if let percent = job["progress"]?["percent"]?.intValue { line += "  \(percent) %" }
            if let description = job["progress"]?["description"]?.stringValue { line += "  \(description)" }
            lines.append(line)
        }
        let queues = (dump["queues"]?["jobs"]?.objectValue ?? [:]).sorted { $0.key < $1.key }
        lines.append("dispatcher queues (\(queues.count)):")
        for (queue, entries) in queues {
            let ids = (entries.objectValue ?? [:]).map { "\($0.key) \($0.value["state"]?.stringValue ?? "")" }.sorted()
            lines.append("  \(queue): \(ids.joined(separator: ", "))")
        }
        return lines.joined(separator: "\n")
    }

    private static func row(_ label: String, _ value: String) -> String {
        label.padding(toLength: 13, withPad: " ", startingAt: 0) + value
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds)
        let (days, hours, minutes, rest) = (total / 86_400, total / 3_600 % 24, total / 60 % 60, total % 60)
        if days > 0 { return "\(days)d \(hours)h \(minutes)m" }
        if hours > 0 { return "\(hours)h \(minutes)m \(rest)s" }
        if minutes > 0 { return "\(minutes)m \(rest)s" }
        return "\(rest)s"
    }

    static func bytes(_ count: Int64) -> String {
        let mib = Double(count) / 1_048_576
        return mib >= 1 ? String(format: "%.1f MiB", mib) : "\(count / 1024) KiB"
    }
}
