import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore

/// The real binary stopped with SIGTERM while jobs run, and killed with SIGKILL right after writes: what
/// docs/operations.md promises about each.
@Suite(.serialized) struct StopAndCrashTests {
    static func command(until file: String) -> JSON {
        ["sh", "-c", .string("while [ ! -e '\(file)' ]; do sleep 0.05; done")]
    }

    static func jobs(_ client: RPCClient) async throws -> [String: JSON] {
        let records = try await client.call("core.get_jobs", [[["method", "=", "dispatcher.run"]]]).arrayValue ?? []
        var byName: [String: JSON] = [:]
        for record in records { byName[record["arguments"]?[0]?["id"]?.stringValue ?? ""] = record }
        return byName
    }

    /// The exit status of `served`, waiting at most `bound` (a hang fails the test, it does not hang the run).
    static func exitStatus(_ served: ServedBinary, within bound: Duration) async throws -> Int32 {
        let pid = served.pid
        let watchdog = Task {
            try await Task.sleep(for: bound)
            kill(pid, SIGKILL)
        }
        defer { watchdog.cancel() }
        return try await Binary.onThread { [process = served.process] in
            process.waitUntilExit()
            return process.terminationReason == .exit ? process.terminationStatus : -process.terminationStatus
        }
    }

    /// SIGTERM: a job still running gets `jobs.shutdown-grace-seconds` to finish (one that finishes in it
    /// ends SUCCESS), one that does not is aborted once the grace is over, and waiting jobs are aborted at once.
    @Test func sigtermGivesRunningJobsTheGraceThenAbortsTheRest() async throws {
        let grace = 8
        let served = try await ServedBinary.start(configuration: #"{"jobs": {"shutdown-grace-seconds": \#(grace)}}"#)
        let root = try await RPCClient.connect(to: ConnectionTarget(.unix(path: served.socket)))
        let finish = served.stateDir + "/finish"
        let never = served.stateDir + "/never"
        _ = try await root.call("dispatcher.run", [["finisher": [Self.command(until: finish)], "stubborn": [Self.command(until: never)]]])
        _ = try await root.call("dispatcher.run", [["queue": "pkg_queue", "head": [Self.command(until: never)], "queued": [Self.command(until: never)]]])
        try await eventually("three jobs run and one waits") {
            let states = try await Self.jobs(root).mapValues { $0["state"]?.stringValue ?? "" }
            return states == ["finisher": "RUNNING", "stubborn": "RUNNING", "head": "RUNNING", "queued": "WAITING"]
        }
        await root.close()
        let signalled = ContinuousClock.now
        kill(served.pid, SIGTERM)
        // The listeners are closed by now and the jobs' grace has begun: let the finisher end inside it.
        try await served.waitForLog("shutting down")
        FileManager.default.createFile(atPath: finish, contents: nil)
        let status = try await Self.exitStatus(served, within: .seconds(120))
        let took = ContinuousClock.now - signalled
        #expect(status == 0, "\(served.log)")
        // A lower bound only, which a loaded machine can only make truer: the stubborn job had the whole grace.
        #expect(took >= .seconds(grace), "stopped after \(took), before the \(grace) s grace was over")

        let daemon = try await TestDaemon.start(stateDir: served.stateDir)
        let again = try await daemon.rootClient()
        let records = try await Self.jobs(again)
        #expect(records["finisher"]?["state"] == "SUCCESS", "\(String(describing: records["finisher"]))")
        for name in ["stubborn", "head", "queued"] {
            #expect(records[name]?["state"] == "ABORTED", "\(name): \(String(describing: records[name]))")
        }
        await again.close()
        await daemon.stop()
    }

    /// SIGKILL right after the replies: every write the daemon acknowledged is there after a restart (users,
    /// an update, a delete, a configuration change, an API key).
    @Test func acknowledgedWritesSurviveSigkill() async throws {
        let served = try await ServedBinary.start()
        let root = try await RPCClient.connect(to: ConnectionTarget(.unix(path: served.socket)))
        var ids: [JSON] = []
        for n in 0..<50 {
            ids.append(try await root.call("user.create", [["username": .string("crash\(n)"), "full_name": "before"]])["id"] ?? .null)
        }
        for id in ids.prefix(10) { _ = try await root.call("user.update", [id, ["full_name": "after"]]) }
        _ = try await root.call("user.delete", [ids[49]])
        _ = try await root.call("system.general.update", [["motd": "survives a crash"]])
        let key = try await root.call("api_key.create", [["name": "crash-key", "username": "crash0"]])
        kill(served.pid, SIGKILL)
        #expect(try await Self.exitStatus(served, within: .seconds(60)) == -SIGKILL)

        let daemon = try await TestDaemon.start(stateDir: served.stateDir)
        let again = try await daemon.rootClient()
        let users = try await again.call("user.query", [[["username", "^", "crash"]], ["order_by": ["id"]]]).arrayValue ?? []
        #expect(users.count == 49)
        #expect(users.map { $0["id"] ?? .null } == Array(ids.prefix(49)))
        #expect(users.prefix(10).allSatisfy { $0["full_name"] == "after" })
        #expect(users.dropFirst(10).allSatisfy { $0["full_name"] == "before" })
        #expect(try await again.call("system.general.config")["motd"] == "survives a crash")
        #expect(try await again.call("api_key.query", [[["id", "=", key["id"] ?? .null]]]).arrayValue?.first?["name"] == "crash-key")
        await again.close()
        await daemon.stop()
    }
}
