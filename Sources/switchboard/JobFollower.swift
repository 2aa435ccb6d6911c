import Foundation
import Synchronization
import SwitchboardClient
import SwitchboardCore

/// Follows a job's `core.get_jobs` events to its end: a progress bar on a terminal, plain lines otherwise.
/// It also asks for the job once a second, so a missed event can delay the end but never hide it.
struct JobFollower {
    let client: RPCClient
    let terminal = isatty(STDERR_FILENO) == 1

    /// The job's record; exits 1 naming the id when there is no such job (the query's own `MatchNotFound` says
    /// nothing of what was looked for).
    static func record(_ client: RPCClient, _ id: JSON) async -> JSON {
        let found = await callOrExit(client, "core.get_jobs", [[["id", "=", id]]])
        guard let record = found.arrayValue?.first else {
            exitWith(1, "no job \(id.encodedString()) (it never existed, is another user's, or was removed by retention; `switchboard jobs` lists the jobs kept)")
        }
        return record
    }

    /// Returns the finished job. The caller subscribed to `core.get_jobs` before the job could start.
    func follow(_ id: JSON) async -> JSON {
        let pending = Mutex<[JSON]>([])
        let client = self.client
        let listener = Task {
            for await event in client.notifications {
                guard event["params"]?["collection"] == "core.get_jobs", event["params"]?["id"] == id,
                      let fields = event["params"]?["fields"] else { continue }
                pending.withLock { $0.append(fields) }
            }
        }
        defer { listener.cancel() }
        var current = await Self.record(client, id)
        var lastShown = ""
        var sincePoll = 0
        while !Self.finished(current) {
            show(current, &lastShown)
            try? await Task.sleep(for: .milliseconds(50))
            sincePoll += 1
            let events = pending.withLock { value -> [JSON] in defer { value.removeAll() }; return value }
            for event in events where !Self.finished(current) {
                current = event
                show(current, &lastShown)
            }
            if events.isEmpty && sincePoll >= 20 {
                sincePoll = 0
                current = await Self.record(client, id)
            }
        }
        show(current, &lastShown)
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
        return current
    }

    static func finished(_ job: JSON) -> Bool {
        ["SUCCESS", "FAILED", "ABORTED"].contains(job["state"]?.stringValue ?? "")
    }

    func show(_ job: JSON, _ lastShown: inout String) {
        let percent = job["progress"]?["percent"]?.intValue
        let description = job["progress"]?["description"]?.stringValue ?? ""
        let state = job["state"]?.stringValue ?? "?"
        let line: String
        if terminal {
            let filled = Int(percent ?? 0) * 30 / 100
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: 30 - filled)
            line = "\r[\(bar)] \(percent.map { "\($0)%" } ?? "  ?") \(state) \(description)".padding(toLength: 100, withPad: " ", startingAt: 0)
        } else {
            line = "\(percent.map { "\($0)%" } ?? "-") \(state) \(description)\n"
        }
        guard line != lastShown else { return }
        lastShown = line
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Prints the result, or the error and exits 1 for a job that failed or was aborted.
    static func finish(_ job: JSON) -> Never {
        if job["state"] == "SUCCESS" {
            print((job["result"] ?? .null).encodedString(pretty: true))
            exit(0)
        }
        exitWith(1, "job \(job["id"] ?? .null) \(job["state"]?.stringValue ?? "?"): \(job["error"]?.stringValue ?? "no reason given")")
    }
}
