import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore

/// `switchboard ctl` against the real binary over its control socket (issue 20): status, log-level, dump,
/// reload, stop (with a job in its grace), wait-ready, and a peer that is neither root nor the daemon's user.
@Suite struct ControlSocketTests {
    static func ctl(_ served: ServedBinary, _ arguments: [String]) async throws -> Binary.Output {
        try await Binary.run(["ctl"] + arguments + ["--socket", served.stateDir + "/control.sock"])
    }

    static func rootClient(_ served: ServedBinary) async throws -> RPCClient {
        try await RPCClient.connect(to: ConnectionTarget(.unix(path: served.socket)))
    }

    @Test func statusLogLevelDumpReloadAndStop() async throws {
        let served = try await ServedBinary.start()
        let attributes = try FileManager.default.attributesOfItem(atPath: served.stateDir + "/control.sock")
        #expect(attributes[.posixPermissions] as? Int == 0o600)
        let client = try await Self.rootClient(served)
        _ = try await client.call("core.ping")

        let status = try await Self.ctl(served, ["status", "--json"])
        #expect(status.status == 0, "\(status.stderr)")
        let json = try JSON.parse(status.stdout)
        #expect(json["pid"] == .int(Int64(served.pid)) && json["phase"] == "ready" && json["log_level"] == "info", "\(json)")
        // This test's client and the command's own connection.
        #expect(json["connections"] == ["jsonrpc": 2], "\(json)")
        #expect(json["jobs"] == ["WAITING": 0, "RUNNING": 0, "finished": 0], "\(json)")
        #expect(json["plugins"]?.arrayValue?.contains { $0["name"] == "control" && $0["state"] == "loaded" } == true, "\(json)")
        #expect((json["memory"]?["resident_bytes"]?.intValue ?? 0) > 1_000_000, "\(json)")
        let human = try await Self.ctl(served, ["status"])
        #expect(human.stdout.hasPrefix("switchboard \(Runtime.version), pid \(served.pid), node "), "\(human.stdout)")
        #expect(human.stdout.contains(": ready, up ") && human.stdout.contains("connections  jsonrpc 2\n"), "\(human.stdout)")

        // The level of every logger, at run time: a session's opening is logged at debug, from then on only.
        #expect(!served.log.contains("session opened"))
        let level = try await Self.ctl(served, ["log-level", "debug"])
        #expect(level.status == 0 && level.stdout == "log level info -> debug\n", "\(level)")
        _ = try await Self.ctl(served, ["status"])
        try await served.waitForLog("session opened")
        let refused = try await Self.ctl(served, ["log-level", "loud"])
        #expect(refused.status == 2 && refused.stderr.contains("the level must be one of trace, debug, info, notice, warning, error, critical"),
                "\(refused)")

        // A dispatcher job that runs until the test lets it end, seen by dump with its queue.
        let done = served.stateDir + "/done"
        _ = try await client.call("dispatcher.run", [["queue": "pkg_queue", "long": [StopAndCrashTests.command(until: done)]]])
        let job = try await eventuallyValue("the job running") { () async throws -> JSON? in
            let record = try await StopAndCrashTests.jobs(client)["long"]
            return record?["state"] == "RUNNING" ? record?["id"] : Optional<JSON>.none
        }
        // A call in flight on the test's session: dump names it.
        let waiter = try await Self.rootClient(served)
        let waiting = Task { try await waiter.call("core.job_wait", [job]) }
        let dump = try await eventuallyValue("dump shows the call in flight") { () async throws -> JSON? in
            let dump = try JSON.parse(try await Self.ctl(served, ["dump", "--json"]).stdout)
            let calls = (dump["sessions"]?.arrayValue ?? []).flatMap { $0["calls"]?.arrayValue ?? [] }
            return calls.contains { $0["method"] == "core.job_wait" && $0["state"] == "running" } ? dump : Optional<JSON>.none
        }
        let sessions = (dump["sessions"]?.arrayValue ?? []).filter { $0["calls"]?.arrayValue?.first?["method"] != "core.job_wait" }
        #expect(sessions.count == 2 && sessions.allSatisfy { $0["user"] == "root" && $0["origin"]?.stringValue?.hasPrefix("unix:uid=0") == true },
                "\(dump)")
        #expect(sessions.filter { $0["current"] == true }.count == 1, "\(dump)")
        // The command's own call is in flight as it asks.
        let own = sessions.first { $0["current"] == true }
        #expect(own?["calls"]?.arrayValue?.map { $0["method"] } == ["control.dump"] && own?["calls_running"] == 1, "\(dump)")
        #expect(dump["jobs"]?.arrayValue?.map { $0["method"] } == ["dispatcher.run"], "\(dump)")
        #expect(dump["queues"]?["jobs"]?["pkg_queue"]?["long"]?["state"] == "running", "\(dump)")
        let humanDump = try await Self.ctl(served, ["dump"])
        #expect(humanDump.stdout.contains("unfinished jobs (1):\n") && humanDump.stdout.contains("  pkg_queue: long running"), "\(humanDump.stdout)")
        #expect(humanDump.stdout.contains("\n    core.job_wait  running "), "\(humanDump.stdout)")
        FileManager.default.createFile(atPath: done, contents: nil)
        try await eventually("the job done") { try await StopAndCrashTests.jobs(client)["long"]?["state"] == "SUCCESS" }
        _ = try await waiting.value
        await waiter.close()

        // A plugin and those that depend on it; an unknown one is refused with the daemon's reason.
        let reload = try await Self.ctl(served, ["reload", "user", "--json"])
        #expect(try JSON.parse(reload.stdout).arrayValue?.map { $0["name"] } == ["user", "api_key", "auth", "twofactor"], "\(reload)")
        let unknown = try await Self.ctl(served, ["reload", "nope"])
        #expect(unknown.status == 1 && unknown.stderr.contains("No plugin named nope"), "\(unknown)")

        await client.close()
        let stop = try await Self.ctl(served, ["stop"])
        #expect(stop.status == 0 && stop.stdout == "stopped\n", "\(stop)")
        #expect(!served.process.isRunning)
        #expect(served.process.terminationStatus == 0)
        let gone = try await Self.ctl(served, ["status"])
        #expect(gone.status == 3 && gone.stderr.contains("no daemon is running: \(served.stateDir)/control.sock does not exist"), "\(gone)")
    }

    /// `ctl stop` while a job runs: the daemon waits for it within jobs.shutdown-grace-seconds (the job ends
    /// SUCCESS, as a restart on the same folder shows), and past a short grace the job is aborted.
    @Test(arguments: [(30, "SUCCESS"), (1, "ABORTED")])
    func stopHonoursTheJobsGrace(grace: Int, final: String) async throws {
        let served = try await ServedBinary.start(configuration: #"{"jobs": {"shutdown-grace-seconds": \#(grace)}}"#)
        let client = try await Self.rootClient(served)
        let done = served.stateDir + "/done"
        _ = try await client.call("dispatcher.run", [["queue": "pkg_queue", "graced": [StopAndCrashTests.command(until: done)]]])
        try await eventually("the job running") { try await StopAndCrashTests.jobs(client)["graced"]?["state"] == "RUNNING" }
        await client.close()
        let stop = Task { try await Self.ctl(served, ["stop"]) }
        try await served.waitForLog("shutting down")
        if final == "SUCCESS" {
            // Still running: it waits for the job, which the test ends now.
            #expect(served.process.isRunning)
            FileManager.default.createFile(atPath: done, contents: nil)
        }
        let stopped = try await stop.value
        #expect(stopped.status == 0 && stopped.stdout == "stopped\n", "\(stopped)")
        let again = try await ServedBinary.start(stateDir: served.stateDir)
        let after = try await Self.rootClient(again)
        #expect(try await StopAndCrashTests.jobs(after)["graced"]?["state"] == .string(final))
        await after.close()
        #expect(try await again.stop() == 0)
    }

    /// `ctl wait-ready` returns once the daemon is ready; with no daemon it times out with exit 4.
    @Test func waitReady() async throws {
        let served = try await ServedBinary.start(waitReady: false)
        let ready = try await Self.ctl(served, ["wait-ready", "--timeout", "30"])
        #expect(ready.status == 0 && ready.stdout == "ready\n", "\(ready)")
        #expect(try await served.stop() == 0)
        let none = try await Binary.run(["ctl", "wait-ready", "--timeout", "0.3", "--socket", TestDaemon.makeStateDir() + "/control.sock"])
        #expect(none.status == 4 && none.stderr.contains("the daemon was not ready after 0 s"), "\(none)")
    }

    /// Another user cannot reach the control socket: its mode keeps them out, and with the mode loosened the
    /// daemon refuses them by their credentials and says so in its log.
    @Test func theControlSocketRefusesOtherUsers() async throws {
        let served = try await ServedBinary.start()
        let binary = try #require(Binary.path)
        let socket = served.stateDir + "/control.sock"
        let asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups", binary, "ctl", "status", "--socket", socket]
        let denied = try await Binary.run(executable: "/usr/bin/setpriv", asNobody)
        #expect(denied.status == 3 && denied.stderr.contains("Permission denied (the control socket is for root and the daemon's user)"), "\(denied)")
        chmod(served.stateDir, 0o755)
        chmod(socket, 0o666)
        let refused = try await Binary.run(executable: "/usr/bin/setpriv", asNobody)
        #expect(refused.status == 3 && refused.stderr.contains("cannot reach the daemon at \(socket)"), "\(refused)")
        try await served.waitForLog("control socket connection refused")
        #expect(served.log.contains("uid=65534"))
        #expect(try await served.stop() == 0)
    }
}
