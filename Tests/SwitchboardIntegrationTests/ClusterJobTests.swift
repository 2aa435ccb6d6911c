import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore
@testable import SwitchboardStore

/// Jobs across the nodes of one PostgreSQL database (issue 19): each node runs its own, every node lists,
/// waits on and aborts them all, and a node killed outright has its jobs failed by a survivor.
@Suite(.serialized) struct ClusterJobTests {
    static func start(_ dsn: String, node: String, nodeTimeout: Duration = .seconds(30)) async throws -> TestDaemon {
        try await ClusterDaemonTests.start(dsn, node: node, nodeTimeout: nodeTimeout)
    }

    static func job(_ client: RPCClient, _ id: Int64) async throws -> JSON {
        try await client.call("core.get_jobs", [[["id", "=", .int(id)]], ["get": true]])
    }

    /// A job running on B is listed on A with its node, waited on from A, and aborted from A.
    @Test func aJobOnOneNodeIsWaitedOnAndAbortedFromAnother() async throws {
        let dsn = try await TestPostgres.createDatabase()
        let a = try await Self.start(dsn, node: "nas-a")
        let b = try await Self.start(dsn, node: "nas-b")
        let rootA = try await a.rootClient()
        let rootB = try await b.rootClient()
        // A short job of B, waited on from A: its result crosses.
        let short = try #require(try await rootB.call("test.job", [5, 20]).intValue)
        #expect(try await rootA.call("core.job_wait", [.int(short)]) == ["steps": 5])
        // A long one, aborted from A while it runs on B.
        let long = try #require(try await rootB.call("test.job", [600, 100]).intValue)
        try await eventually("B's job RUNNING, as A lists it") { try await Self.job(rootA, long)["state"] == "RUNNING" }
        #expect(try await Self.job(rootA, long)["node"] == "nas-b")
        let waiter = Task { try await rootA.request("core.job_wait", [.int(long)]) }
        #expect(try await rootA.call("core.job_abort", [.int(long)]) == true)
        let onB = try await Self.job(rootB, long)
        #expect(onB["state"] == "ABORTED", "\(onB)")
        let waited = try await waiter.value
        #expect(waited["error"]?["data"]?["errname"] == "ECANCELED", "\(waited)")
        // A job that has ended is not aborted again, from either node.
        #expect(try await rootA.call("core.job_abort", [.int(long)]) == false)
        await ClusterDaemonTests.finish(dsn, daemons: [a, b], clients: [rootA, rootB])
    }

    /// A job's events reach another node in the order they happened, each committed with the row it announces:
    /// when A hears B's job RUNNING, A's own query finds the RUNNING row; progress never goes back; the final
    /// event is the job's last (proven by a later job's events, which arrive after it).
    @Test func aJobsEventsReachAnotherNodeInOrderWithTheirRows() async throws {
        let dsn = try await TestPostgres.createDatabase()
        let a = try await Self.start(dsn, node: "nas-a")
        let b = try await Self.start(dsn, node: "nas-b")
        let (onA, heard) = try await ClusterDaemonTests.subscriber(a, ["core.get_jobs"])
        let rootB = try await b.rootClient()
        func events(_ id: Int64) -> [JSON] { heard.events("core.get_jobs").filter { $0["id"]?.intValue == id } }
        func states(_ id: Int64) -> [String] { events(id).compactMap { $0["fields"]?["state"]?.stringValue } }
        let gated = try #require(try await rootB.call("test.serial", ["rows"]).intValue)
        try await eventually("A hears B's job RUNNING") { states(gated).contains("RUNNING") }
        #expect(try await Self.job(onA, gated)["state"] == "RUNNING")
        _ = try await rootB.call("test.open", ["rows"])
        let stepped = try #require(try await rootB.call("test.job", [8, 15]).intValue)
        _ = try await rootB.call("core.job_wait", [.int(stepped)])
        let marker = try #require(try await rootB.call("test.job", [0]).intValue)
        try await eventually("A hears the marker job end") { states(marker).contains("SUCCESS") }
        for id in [gated, stepped] {
            let seen = states(id)
            #expect(seen.last == "SUCCESS" && seen.filter { $0 == "SUCCESS" }.count == 1, "\(id): \(seen)")
            #expect(seen.first == "WAITING" || seen.first == "RUNNING", "\(id): \(seen)")
            #expect(!seen.dropLast().contains { $0 != "WAITING" && $0 != "RUNNING" }, "\(id): \(seen)")
            #expect(events(id).first?["msg"] == "added", "\(id): \(events(id))")
        }
        let percents = events(stepped).compactMap { $0["fields"]?["progress"]?["percent"]?.intValue }
        #expect(percents == percents.sorted() && percents.last == 100, "\(percents)")
        // A change that is not stored is not heard elsewhere: the server refuses the RUNNING row of B's job, so
        // A hears the job added and ended, never running, while B's own subscriber heard it run.
        let database = try PostgresDSN(dsn).database
        try await TestPostgres.run(try TestPostgres.admin(), """
            CREATE FUNCTION refuse_running() RETURNS trigger AS $$ BEGIN
                IF NEW.state = 'RUNNING' AND NEW.method = 'test.exclusive' THEN RAISE EXCEPTION 'refused by the test'; END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql
            """, database: database)
        try await TestPostgres.run(try TestPostgres.admin(), """
            CREATE TRIGGER refuse_running BEFORE INSERT OR UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION refuse_running()
            """, database: database)
        let (onB, heardOnB) = try await ClusterDaemonTests.subscriber(b, ["core.get_jobs"])
        let unstored = try #require(try await rootB.call("test.exclusive", ["unstored"]).intValue)
        try await eventually("B's subscriber hears the job RUNNING") {
            heardOnB.events("core.get_jobs").contains { $0["id"]?.intValue == unstored && $0["fields"]?["state"] == "RUNNING" }
        }
        _ = try await rootB.call("test.open", ["unstored"])
        try await eventually("A hears the job end") { states(unstored).contains("SUCCESS") }
        #expect(states(unstored) == ["WAITING", "SUCCESS"], "\(events(unstored))")
        await ClusterDaemonTests.finish(dsn, daemons: [a, b], clients: [onA, rootB, onB])
    }

    /// Nodes are listed with their state, and every node hears one join and, on an orderly stop, leave. On
    /// SQLite the method answers with the one node.
    @Test func nodesJoinAndLeaveAndEveryNodeHearsIt() async throws {
        let dsn = try await TestPostgres.createDatabase()
        let a = try await Self.start(dsn, node: "nas-a")
        let (watcher, heard) = try await ClusterDaemonTests.subscriber(a, ["cluster.nodes"])
        let b = try await Self.start(dsn, node: "nas-b")
        let rootA = try await a.rootClient()
        let nodes = try await rootA.call("cluster.nodes", [[], ["order_by": ["name"]]])
        #expect(nodes.arrayValue?.map { $0["name"] } == ["nas-a", "nas-b"] && nodes.arrayValue?.allSatisfy { $0["state"] == "up" } == true, "\(nodes)")
        let row = try #require(nodes[1])
        #expect(row["version"] == .string(Runtime.version) && (row["started"]?.intValue ?? 0) > 0 && (row["last_seen"]?.intValue ?? 0) >= (row["started"]?.intValue ?? 0), "\(row)")
        await b.stop()
        try await eventually("B's leave heard on A") { heard.events("cluster.nodes").last?["fields"]?["state"] == "left" }
        let states = heard.events("cluster.nodes").filter { $0["fields"]?["name"] == "nas-b" }.compactMap { $0["fields"]?["state"]?.stringValue }
        #expect(states == ["up", "left"])
        #expect(try await rootA.call("cluster.nodes", [[["name", "=", "nas-b"]], ["get": true]])["state"] == "left")
        for client in [watcher, rootA] { await client.close() }
        await a.stop()
        await TestPostgres.dropDatabase(dsn)

        let single = try await TestDaemon.start { $0.nodeName = "solo" }
        let root = try await single.rootClient()
        let alone = try await root.call("cluster.nodes", [[], ["select": ["name", "state"]]])
        #expect(alone == [["name": "solo", "state": "up"]], "\(alone)")
        // No cluster, no lease: a job's fencing token is null.
        let fenced = try #require(try await root.call("test.fenced").intValue)
        #expect(try await root.call("core.job_wait", [.int(fenced)]) == .null)
        await root.close()
        await single.stop()
    }

    /// A node declared dead while it still runs (its row silenced by hand, as a cut-off network would) is fenced
    /// at its next beat: it aborts its jobs, whose locks the others may now take, and goes on as a member.
    @Test func aNodeDeclaredDeadWhileAliveAbortsItsJobs() async throws {
        let dsn = try await TestPostgres.createDatabase()
        let a = try await Self.start(dsn, node: "nas-a")
        let b = try await Self.start(dsn, node: "nas-b")
        let rootA = try await a.rootClient()
        let rootB = try await b.rootClient()
        let long = try #require(try await rootB.call("test.job", [600, 100]).intValue)
        try await eventually("B's job running") { try await Self.job(rootA, long)["state"] == "RUNNING" }
        let admin = try TestPostgres.admin()
        let database = try #require(dsn.split(separator: "/").last?.split(separator: "?").first.map(String.init))
        // Until A declares B dead: B's own beats keep renewing the row, so it is silenced again each time.
        try await eventually("B declared dead by A") {
            _ = try await TestPostgres.run(admin, "UPDATE switchboard_nodes SET last_seen = 0 WHERE name = 'nas-b' AND state = 'up'", database: database)
            return try await rootA.call("cluster.nodes", [[["name", "=", "nas-b"]], ["get": true]])["state"] == "dead"
        }
        let ended = try await eventuallyValue("B's job ended by B's fencing", timeout: .seconds(30)) { () -> JSON? in
            let job = try await Self.job(rootB, long)
            return job["state"] == "ABORTED" ? Optional.some(job) : Optional.none
        }
        #expect(ended["error"]?.stringValue?.contains("Node nas-b was declared dead by another node") == true, "\(ended)")
        try await eventually("B up again") {
            try await rootA.call("cluster.nodes", [[["name", "=", "nas-b"]], ["get": true]])["state"] == "up"
        }
        await ClusterDaemonTests.finish(dsn, daemons: [a, b], clients: [rootA, rootB])
    }

    /// A job lock holds across nodes: a queue's job on B waits while A's runs, and starts once A's has ended;
    /// B's other queue is not held up meanwhile. A lock that admits no queue is refused on B while A holds it.
    @Test func aLockHeldOnOneNodeHoldsTheJobsOfAnother() async throws {
        let dsn = try await TestPostgres.createDatabase()
        let a = try await Self.start(dsn, node: "nas-a")
        let b = try await Self.start(dsn, node: "nas-b")
        let rootA = try await a.rootClient()
        let rootB = try await b.rootClient()
        let firstDone = a.stateDir + "/first", secondDone = b.stateDir + "/second", otherDone = b.stateDir + "/other"
        _ = try await rootA.call("dispatcher.run", [["queue": "pkg_queue", "first": [StopAndCrashTests.command(until: firstDone)]]])
        try await eventually("A's job running") { try await StopAndCrashTests.jobs(rootA)["first"]?["state"] == "RUNNING" }
        _ = try await rootB.call("dispatcher.run", [["queue": "pkg_queue", "second": [StopAndCrashTests.command(until: secondDone)]]])
        _ = try await rootB.call("dispatcher.run", [["queue": "iocage_queue", "other": [StopAndCrashTests.command(until: otherDone)]]])
        // The marker: B's job of another queue runs, so B has scheduled what it had; the queue's job still waits.
        try await eventually("B's job of the other queue running") { try await StopAndCrashTests.jobs(rootB)["other"]?["state"] == "RUNNING" }
        #expect(try await StopAndCrashTests.jobs(rootB)["second"]?["state"] == "WAITING")
        FileManager.default.createFile(atPath: firstDone, contents: nil)
        try await eventually("B's job of the queue running after A's ended") { try await StopAndCrashTests.jobs(rootB)["second"]?["state"] == "RUNNING" }
        FileManager.default.createFile(atPath: secondDone, contents: nil)
        FileManager.default.createFile(atPath: otherDone, contents: nil)
        try await eventually("both queue jobs done") {
            let jobs = try await StopAndCrashTests.jobs(rootB)
            return jobs["second"]?["state"] == "SUCCESS" && jobs["first"]?["state"] == "SUCCESS"
        }
        let jobs = try await StopAndCrashTests.jobs(rootB)
        let firstEnded = try #require(jobs["first"]?["time_finished"]?["$date"]?.intValue)
        let secondStarted = try #require(jobs["second"]?["time_started"]?["$date"]?.intValue)
        #expect(secondStarted >= firstEnded, "\(jobs)")
        // A lock that admits no queue: refused on B while A's job holds it, taken on B once A's has ended.
        let held = try #require(try await rootA.call("test.exclusive", ["a"]).intValue)
        try await eventually("A's exclusive job running") { try await Self.job(rootA, held)["state"] == "RUNNING" }
        let refused = try await rootB.request("test.exclusive", ["b"])
        #expect(refused["error"]?["data"]?["errname"] == "EBUSY", "\(refused)")
        #expect(refused["error"]?["data"]?["reason"] == "This job is already being performed (on node nas-a)", "\(refused)")
        _ = try await rootA.call("test.open", ["a"])
        _ = try await rootA.call("core.job_wait", [.int(held)])
        let taken = try #require(try await rootB.call("test.exclusive", ["b"]).intValue)
        _ = try await rootB.call("test.open", ["b"])
        _ = try await rootB.call("core.job_wait", [.int(taken)])
        // Each grant of a lock carries a fencing token greater than every earlier one, whichever node gets it.
        var tokens: [Int64] = []
        for root in [rootA, rootB, rootA] {
            let job = try #require(try await root.call("test.fenced").intValue)
            tokens.append(try #require(try await root.call("core.job_wait", [.int(job)]).intValue))
        }
        #expect(tokens == tokens.sorted() && Set(tokens).count == 3, "\(tokens)")
        await ClusterDaemonTests.finish(dsn, daemons: [a, b], clients: [rootA, rootB])
    }

    /// SIGKILL of a node: a survivor declares it dead after the node timeout, fails its running job with the
    /// reason (and a wait on it from the survivor ends), frees its job lock, and every node hears of it.
    @Test func aKilledNodesJobsAreFailedByASurvivor() async throws {
        let dsn = try await TestPostgres.createDatabase()
        let a = try await Self.start(dsn, node: "nas-a", nodeTimeout: .seconds(3))
        let configuration = """
            {"datastore": {"driver": "postgresql", "dsn": "\(dsn)"}, "dispatcher": {"node-name": "nas-b"},
             "cluster": {"heartbeat-seconds": 1, "node-timeout-seconds": 30}}
            """
        let b = try await ServedBinary.start(configuration: configuration)
        let (watcher, heard) = try await ClusterDaemonTests.subscriber(a, ["cluster.nodes"])
        let rootA = try await a.rootClient()
        try await eventually("both nodes up") {
            let nodes = try await rootA.call("cluster.nodes", [[], ["select": ["name", "state"], "order_by": ["name"]]])
            return nodes == [["name": "nas-a", "state": "up"], ["name": "nas-b", "state": "up"]]
        }
        let rootB = try await RPCClient.connect(to: ConnectionTarget(.unix(path: b.socket)))
        let never = b.stateDir + "/never"
        _ = try await rootB.call("dispatcher.run", [["queue": "pkg_queue", "stuck": [StopAndCrashTests.command(until: never)]]])
        let id = try await eventuallyValue("B's job running, as A lists it") { () -> Int64? in
            let jobs = try await rootA.call("core.get_jobs", [[["method", "=", "dispatcher.run"], ["state", "=", "RUNNING"]]])
            return jobs[0]?["id"]?.intValue
        }
        // A job of the same queue on A waits for B's lease.
        let freed = a.stateDir + "/freed"
        _ = try await rootA.call("dispatcher.run", [["queue": "pkg_queue", "next": [StopAndCrashTests.command(until: freed)]]])
        let next = try await eventuallyValue("A's job listed") { () -> Int64? in
            try await rootA.call("core.get_jobs", [[["method", "=", "dispatcher.run"], ["node", "=", "nas-a"]]])[0]?["id"]?.intValue
        }
        #expect(try await Self.job(rootA, next)["state"] == "WAITING")
        let waiter = Task { try await rootA.request("core.job_wait", [.int(id)]) }
        kill(b.pid, SIGKILL)
        _ = try await StopAndCrashTests.exitStatus(b, within: .seconds(30))
        // The killed daemon's command outlives it (SIGKILL gives it no chance to stop its jobs): let it end.
        FileManager.default.createFile(atPath: never, contents: nil)
        let failed = try await eventuallyValue("B's job failed by A", timeout: .seconds(30)) { () -> JSON? in
            let job = try await Self.job(rootA, id)
            // JSON takes `nil` as its null: the absence is spelled out.
            return job["state"] == "FAILED" ? Optional.some(job) : Optional.none
        }
        #expect(failed["error"]?.stringValue?.hasPrefix("Node nas-b stopped answering (no heartbeat for ") == true, "\(failed)")
        #expect(failed["error"]?.stringValue?.hasSuffix("its jobs were failed by node nas-a") == true, "\(failed)")
        #expect(failed["exc_info"]?["errno"] == .int(Int64(Errno.EHOSTDOWN)), "\(failed)")
        let waited = try await waiter.value
        #expect(waited["error"]?["data"]?["errname"] == "EHOSTDOWN", "\(waited)")
        // The dead node's lease is gone: A's job of the queue runs.
        try await eventually("A's job of the queue running once B's lease is freed") { try await Self.job(rootA, next)["state"] == "RUNNING" }
        FileManager.default.createFile(atPath: freed, contents: nil)
        #expect(try await rootA.call("core.job_wait", [.int(next)]) != .null)
        let nodes = try await rootA.call("cluster.nodes", [[["name", "=", "nas-b"]], ["get": true]])
        #expect(nodes["state"] == "dead", "\(nodes)")
        try await eventually("the dead node's event") {
            heard.events("cluster.nodes").contains { $0["fields"]?["name"] == "nas-b" && $0["fields"]?["state"] == "dead" }
        }
        for client in [watcher, rootA, rootB] { await client.close() }
        await a.stop()
        await TestPostgres.dropDatabase(dsn)
    }
}
