import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore

/// seed 004's process dispatcher, with real child processes.
@Suite(.serialized) struct DispatcherTests {
    func jobRecord(_ client: RPCClient, named name: String) async throws -> JSON {
        let jobs = try await client.call("core.get_jobs", [[["method", "=", "dispatcher.run"]], ["order_by": ["-id"]]])
        return try #require(jobs.arrayValue?.first { $0["arguments"]?[0]?["id"] == .string(name) })
    }

    func waitFinished(_ client: RPCClient, _ name: String) async throws -> JSON {
        let id = try await jobRecord(client, named: name)["id"]!
        _ = try? await client.call("core.job_wait", [id])
        return try await jobRecord(client, named: name)
    }

    /// The first listing for which `ready` holds: a loaded machine may take a while to spawn the children.
    func listing(_ client: RPCClient, until ready: (JSON) -> Bool) async throws -> JSON {
        var listing: JSON = .null
        try await eventually("the listing is ready") {
            listing = try await client.call("dispatcher.list", [["action": "list"]])
            return ready(listing)
        }
        return listing
    }

    /// A command that runs until the test creates `file`: a job that must still run when the test looks
    /// at it waits on the test, not on a time the test bets a loaded machine stays within.
    func untilFile(_ file: String) -> JSON {
        ["sh", "-c", .string("while [ ! -e '\(file)' ]; do sleep 0.05; done")]
    }

    func release(_ file: String) {
        FileManager.default.createFile(atPath: file, contents: nil)
    }

    func processAlive(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 && !((try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.contains(") Z ") ?? true)
    }

    @Test func runListAndKillShapes() async throws {
        let daemon = try await TestDaemon.start()
        let admin = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        let gate = daemon.stateDir + "/gate"
        let started = try await admin.call("dispatcher.run", [["queue": "pkg_queue", "first": [untilFile(gate)], "second": [untilFile(gate)]]])
        #expect(Set(started["started"]?.arrayValue ?? []) == ["first", "second"])
        let listing = try await listing(admin) { $0["jobs"]?["pkg_queue"]?.objectValue?.values.contains { $0["state"] == "running" } == true }
        let queue = try #require(listing["jobs"]?["pkg_queue"]?.objectValue)
        #expect(queue.count == 2)
        let running = try #require(queue.values.first { $0["state"] == "running" })
        let pending = try #require(queue.values.first { $0["state"] == "pending" })
        #expect(running["queue_position"] == "0")
        #expect(pending["queue_position"] == "1")
        #expect(running["commands"] == [untilFile(gate)])
        let runningName = try #require(queue.first { $0.value["state"] == "running" }?.key)
        let pendingName = try #require(queue.first { $0.value["state"] == "pending" }?.key)
        let killed = try await admin.call("dispatcher.kill", [["action": "kill", "job_id": [.string(runningName), .string(pendingName), "nobody"]]])
        #expect(killed == ["killed": ["jobs": [.string(runningName), .string(pendingName)]]])
        #expect(try await waitFinished(admin, runningName)["state"] == "ABORTED")
        #expect(try await waitFinished(admin, pendingName)["state"] == "ABORTED")
        #expect(try await admin.call("dispatcher.list") == ["jobs": [:]])
        await admin.close()
        await daemon.stop()
    }

    @Test func commandListStopsAtTheFirstFailure() async throws {
        let daemon = try await TestDaemon.start()
        let admin = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        _ = try await admin.call("dispatcher.run", [["chain": ["echo one", "false", "echo never"]]])
        let record = try await waitFinished(admin, "chain")
        #expect(record["state"] == "FAILED")
        #expect(record["exc_info"]?["extra"]?["exit_codes"] == [0, 1])
        let log = try String(contentsOfFile: record["logs_path"]!.stringValue!, encoding: .utf8)
        #expect(log.contains("one"))
        #expect(!log.contains("never"))
        _ = try await admin.call("dispatcher.run", [["ok": ["echo 'quoted  words' \"and $HOME\"", ["printf", "%s", "argv form"]]]])
        let ok = try await waitFinished(admin, "ok")
        #expect(ok["state"] == "SUCCESS")
        #expect(ok["result"] == ["job_id": "ok", "exit_codes": [0, 0]])
        let okLog = try String(contentsOfFile: ok["logs_path"]!.stringValue!, encoding: .utf8)
        // No shell: variables are not expanded, quotes group words.
        #expect(okLog.contains("quoted  words and $HOME"))
        #expect(okLog.contains("argv form"))
        await admin.close()
        await daemon.stop()
    }

    @Test func parallelQueueRunsTogetherSerialQueuesOneAtATime() async throws {
        let daemon = try await TestDaemon.start { $0.plugins = ["user": ["bcrypt_cost": 4], "dispatcher": ["queues": ["backup_queue"]]] }
        let admin = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        let gate = daemon.stateDir + "/gate"
        _ = try await admin.call("dispatcher.run", [["p1": [untilFile(gate)], "p2": [untilFile(gate)]]])
        _ = try await admin.call("dispatcher.run", [["queue": "backup_queue", "b1": [untilFile(gate)], "b2": [untilFile(gate)]]])
        let listing = try await listing(admin) { listing in
            (listing["jobs"]?["no_queue"]?.objectValue?.values.filter { $0["state"] == "running" }.count ?? 0) == 2
                && listing["jobs"]?["backup_queue"]?.objectValue?.values.contains { $0["state"] == "running" } == true
        }
        let parallel = listing["jobs"]?["no_queue"]?.objectValue?.values.map { $0["state"] } ?? []
        #expect(parallel == ["running", "running"])
        let serial = listing["jobs"]?["backup_queue"]?.objectValue?.values.compactMap { $0["state"]?.stringValue }.sorted() ?? []
        #expect(serial == ["pending", "running"])
        release(gate)
        for name in ["p1", "p2", "b1", "b2"] { _ = try await waitFinished(admin, name) }
        await admin.close()
        await daemon.stop()
    }

    @Test func killTakesTheWholeProcessGroup() async throws {
        let daemon = try await TestDaemon.start { $0.plugins = ["user": ["bcrypt_cost": 4], "dispatcher": ["kill_grace_seconds": 1]] }
        let admin = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        let pidFile = daemon.stateDir + "/pids"
        // A shell that starts a grandchild ignoring SIGTERM, so only SIGKILL to the group ends it.
        let script = "trap '' TERM; sleep 30 & echo $$ $! > \(pidFile); wait"
        _ = try await admin.call("dispatcher.run", [["tree": [["sh", "-c", .string(script)]]]])
        var pids: [Int32] = []
        try await eventually("the shell wrote its pid and its child's") {
            pids = ((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int32($0) }
            return pids.count == 2
        }
        #expect(pids.allSatisfy(processAlive))
        _ = try await admin.call("dispatcher.kill", [["job_id": "tree"]])
        let record = try await waitFinished(admin, "tree")
        #expect(record["state"] == "ABORTED")
        #expect(record["progress"]?["percent"] == .null, "the killed command did not complete its step: \(record)")
        // Gone once reaped (the grandchild by init): wait for that, not for a time.
        for pid in pids { try await eventually("process \(pid) is gone") { !processAlive(pid) } }
        await admin.close()
        await daemon.stop()
    }

    @Test func badRequestsAndRoles() async throws {
        let daemon = try await TestDaemon.start()
        let admin = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        let reader = try await daemon.client(as: "reader", roles: ["READONLY_ADMIN"])
        #expect(try await reader.request("dispatcher.run", [["x": "true"]])["error"]?["data"]?["error"] == 13)
        #expect(try await reader.request("dispatcher.kill", [["job_id": "x"]])["error"]?["data"]?["error"] == 13)
        #expect(try await reader.call("dispatcher.list") == ["jobs": [:]])
        let unknownQueue = try await admin.request("dispatcher.run", [["queue": "nope", "x": "true"]])
        #expect(unknownQueue["error"]?["data"]?["extra"]?[0]?[0] == "args.queue")
        let badQuote = try await admin.request("dispatcher.run", [["x": "echo 'unterminated"]])
        #expect(badQuote["error"]?["data"]?["extra"]?[0]?[0] == "args.x.0")
        let badType = try await admin.request("dispatcher.run", [["x": 5]])
        #expect(badType["error"]?["code"] == -32602)
        let nothing = try await admin.request("dispatcher.run", [["queue": "pkg_queue"]])
        #expect(nothing["error"]?["code"] == -32602)
        let gate = daemon.stateDir + "/gate"
        _ = try await admin.call("dispatcher.run", [["dup": [untilFile(gate)]]])
        let duplicate = try await admin.request("dispatcher.run", [["dup": "true"]])
        #expect(duplicate["error"]?["data"]?["extra"]?[0]?[2] == 17)
        let missing = try await admin.call("dispatcher.run", [["ghost": "/nonexistent/program"]])
        #expect(missing["started"] == ["ghost"])
        // The numeric id is the one core.job_wait and `switchboard jobs wait` take.
        let ghostID = try #require(missing["job_ids"]?["ghost"])
        #expect(try await waitFinished(admin, "ghost")["state"] == "FAILED")
        #expect(try await jobRecord(admin, named: "ghost")["id"] == ghostID)
        release(gate)
        _ = try await waitFinished(admin, "dup")
        await reader.close()
        await admin.close()
        await daemon.stop()
    }

    /// The real binary, killed with SIGKILL mid-job: after a restart every accepted job is FAILED with the reason.
    @Test func sigkillMidJobLosesNothing() async throws {
        let dir = TestDaemon.makeStateDir()
        let (process, socket) = try await Binary.serve(stateDir: dir)
        let root = try await RPCClient.connect(to: ConnectionTarget(.unix(path: socket)))
        let pidFile = dir + "/child-pids"
        var names: [String] = []
        for i in 0..<3 {
            names.append("par\(i)")
            _ = try await root.call("dispatcher.run", [[.init(stringLiteral: "par\(i)"): [["sh", "-c", .string("echo $$ >> \(pidFile); exec sleep 30")]]]])
        }
        for i in 0..<3 {
            names.append("ser\(i)")
            _ = try await root.call("dispatcher.run", [["queue": "pkg_queue", .init(stringLiteral: "ser\(i)"): [["sh", "-c", .string("echo $$ >> \(pidFile); exec sleep 30")]]]])
        }
        let before = try await root.call("core.get_jobs", [[["method", "=", "dispatcher.run"]]])
        let ids = Set((before.arrayValue ?? []).compactMap { $0["id"]?.intValue })
        #expect(ids.count == 6)
        // Killed once the three parallel jobs and the first serial one have started their commands.
        try await eventually("four commands have started") {
            ((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? "").split(separator: "\n").count == 4
        }
        let states = try await root.call("core.get_jobs", [[["method", "=", "dispatcher.run"]]]).arrayValue?.compactMap { $0["state"]?.stringValue }
        #expect(states?.sorted() == ["RUNNING", "RUNNING", "RUNNING", "RUNNING", "WAITING", "WAITING"], "\(String(describing: states))")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        // The children were in their own sessions and outlive the daemon; clean them up.
        for pid in ((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? "").split(separator: "\n").compactMap({ Int32($0) }) {
            kill(-pid, SIGKILL)
        }

        let daemon = try await TestDaemon.start(stateDir: dir)
        let again = try await daemon.rootClient()
        let after = try await again.call("core.get_jobs", [[["method", "=", "dispatcher.run"]]])
        let records = after.arrayValue ?? []
        #expect(Set(records.compactMap { $0["id"]?.intValue }) == ids)
        for record in records {
            #expect(record["state"] == "FAILED")
            #expect(record["error"] == "interrupted: daemon restarted")
        }
        await again.close()
        await daemon.stop()
    }
}
