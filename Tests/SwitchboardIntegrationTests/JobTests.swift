import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore

@Suite(.serialized) struct JobTests {
    func job(_ client: RPCClient, _ id: JSON) async throws -> JSON {
        try await client.call("core.get_jobs", [[["id", "=", id]], ["get": true]])
    }

    /// Returns once the job is in `state`: a loaded machine may take a while to schedule its runner.
    func until(_ client: RPCClient, _ id: JSON, is state: JSON) async throws {
        try await eventually("job \(id) is \(state)") { try await job(client, id)["state"] == state }
    }

    /// A gate of the test plugin: the jobs waiting on it run until the test opens it.
    func gate() -> JSON { .string("gate-\(UUID().uuidString)") }

    @Test func legacyJobReturnsIdAndEventsArriveInOrder() async throws {
        let daemon = try await TestDaemon.start()
        let client = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        _ = try await client.call("core.subscribe", ["core.get_jobs"])
        // Steps 150 ms apart, more than `jobs.progress-interval-ms`: pacing sends every one.
        let id = try await client.call("test.job", [4, 150])
        guard case .int = id else { Issue.record("job id is not an integer: \(id)"); return }
        var events: [JSON] = []
        while true {
            let event = try await client.nextNotification()
            guard event["params"]?["id"] == id else { continue }
            events.append(event["params"]!)
            if let state = event["params"]?["fields"]?["state"]?.stringValue, JobState(rawValue: state)?.isFinished == true { break }
        }
        #expect(events.first?["msg"] == "added")
        #expect(events.first?["fields"]?["state"] == "WAITING")
        #expect(events.dropFirst().allSatisfy { $0["msg"] == "changed" })
        let percents = events.compactMap { $0["fields"]?["progress"]?["percent"]?.intValue }
        #expect(percents == [25, 50, 75, 100, 100])
        let states = events.compactMap { $0["fields"]?["state"]?.stringValue }
        #expect(states == ["WAITING", "RUNNING", "RUNNING", "RUNNING", "RUNNING", "RUNNING", "SUCCESS"])
        let final = try #require(events.last?["fields"])
        #expect(final["result"] == ["steps": 4])
        #expect(final["method"] == "test.job")
        #expect(final["arguments"] == [4, 150, false])
        #expect(final["description"] == "test job of 4 steps")
        #expect(final["time_finished"]?["$date"]?.intValue != nil)
        // Every key of the spec's job object is there.
        let keys = Set(final.objectValue?.keys.map { $0 } ?? [])
        for key in ["id", "message_ids", "method", "arguments", "transient", "description", "abortable", "logs_path", "logs_excerpt",
                    "progress", "result", "error", "exception", "exc_info", "state", "time_started", "time_finished"] {
            #expect(keys.contains(key), "missing \(key)")
        }
        #expect(try await client.call("core.job_wait", [id]) == ["steps": 4])
        await client.close()
        await daemon.stop()
    }

    @Test func failedJobCarriesItsError() async throws {
        let daemon = try await TestDaemon.start()
        let client = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        let id = try await client.call("test.job", [1, 1, true])
        let reply = try await client.request("core.job_wait", [id])
        #expect(reply["error"]?["data"]?["error"] == 28)
        #expect(reply["error"]?["data"]?["reason"] == "no space left for the test")
        let record = try await job(client, id)
        #expect(record["state"] == "FAILED")
        #expect(record["error"] == "no space left for the test")
        #expect(record["exc_info"]?["errno"] == 28)
        await client.close()
        await daemon.stop()
    }

    @Test func newStyleJobsHoldTheReply() async throws {
        let daemon = try await TestDaemon.start()
        let client = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        _ = try await client.call("core.set_options", [["legacy_jobs": false]])
        let reply = try await client.request("test.job", [2])
        #expect(reply["result"] == ["steps": 2])
        let requestID = try #require(reply["id"])
        let jobs = try await client.call("core.get_jobs", [[["method", "=", "test.job"]]])
        #expect(jobs[0]?["message_ids"] == [requestID])
        let failed = try await client.request("test.job", [1, 1, true])
        #expect(failed["error"]?["data"]?["error"] == 28)
        await client.close()
        await daemon.stop()
    }

    @Test func lockSerialisesJobs() async throws {
        let daemon = try await TestDaemon.start()
        let client = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        let open = gate()
        var ids: [JSON] = []
        for _ in 0..<3 { ids.append(try await client.call("test.serial", [open])) }
        try await until(client, ids[0], is: "RUNNING")
        for id in ids.dropFirst() { #expect(try await job(client, id)["state"] == "WAITING") }
        _ = try await client.call("test.open", [open])
        for id in ids { _ = try await client.call("core.job_wait", [id]) }
        let records = try await client.call("core.get_jobs", [[["method", "=", "test.serial"]], ["order_by": ["id"]]]).arrayValue ?? []
        #expect(records.count == 3)
        for (earlier, later) in zip(records, records.dropFirst()) {
            let finished = earlier["time_finished"]?["$date"]?.intValue ?? .max
            let started = later["time_started"]?["$date"]?.intValue ?? 0
            #expect(started >= finished, "jobs with one lock overlapped")
        }
        await client.close()
        await daemon.stop()
    }

    @Test func lockQueueSizeZeroRefusesWhileRunning() async throws {
        let daemon = try await TestDaemon.start()
        let client = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        let held = gate()
        let first = try await client.call("test.exclusive", [held])
        let second = try await client.request("test.exclusive", [held])
        #expect(second["error"]?["data"]?["error"] == 16)
        #expect(second["error"]?["data"]?["reason"] == "This job is already being performed")
        _ = try await client.call("test.open", [held])
        _ = try await client.call("core.job_wait", [first])
        // Once it ended the lock is free again.
        let third = try await client.call("test.exclusive", [held])
        #expect(try await client.call("core.job_wait", [third]) == true)
        await client.close()
        await daemon.stop()
    }

    @Test func fullQueueReturnsTheQueuedJob() async throws {
        let daemon = try await TestDaemon.start()
        let client = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        let held = gate()
        let running = try await client.call("test.queued", [held])
        try await until(client, running, is: "RUNNING")
        let queued = try await client.request("test.queued", [held])
        let again = try await client.request("test.queued", [held])
        #expect(queued["result"] != running)
        #expect(again["result"] == queued["result"])
        let record = try await job(client, queued["result"]!)
        #expect(record["message_ids"] == [queued["id"]!, again["id"]!])
        #expect(record["state"] == "WAITING")
        _ = try await client.call("test.open", [held])
        #expect(try await client.call("core.job_wait", [queued["result"]!]) == true)
        await client.close()
        await daemon.stop()
    }

    @Test func abortWaitingAndRunningJobs() async throws {
        let daemon = try await TestDaemon.start()
        let client = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        let held = gate()
        let holder = try await client.call("test.serial", [held])
        let waiting = try await client.call("test.serial", [held])
        try await until(client, holder, is: "RUNNING")
        #expect(try await job(client, waiting)["state"] == "WAITING")
        #expect(try await client.call("core.job_abort", [waiting]) == true, "the abort took effect")
        #expect(try await job(client, waiting)["state"] == "ABORTED")
        #expect(try await client.call("core.job_abort", [waiting]) == false, "it had already ended")
        #expect(try await job(client, holder)["state"] == "RUNNING")
        #expect(try await client.call("core.job_abort", [holder]) == true)
        let aborted = try await client.request("core.job_wait", [holder])
        #expect(aborted["error"]?["data"]?["error"] == 125)
        #expect(try await job(client, holder)["state"] == "ABORTED")
        // A job that is not abortable says so.
        let stubborn = try await client.call("test.unabortable", [held])
        try await until(client, stubborn, is: "RUNNING")
        let refusal = try await client.request("core.job_abort", [stubborn])
        #expect(refusal["error"]?["data"]?["error"] == 22)
        #expect(refusal["error"]?["data"]?["reason"] == .string("Job \(stubborn) is not abortable"), "\(refusal)")
        #expect(try await job(client, stubborn)["state"] == "RUNNING")
        _ = try await client.call("test.open", [held])
        #expect(try await client.call("core.job_wait", [stubborn]) == true)
        // Unknown job.
        #expect(try await client.request("core.job_abort", [999_999])["error"]?["data"]?["error"] == 2)
        await client.close()
        await daemon.stop()
    }

    /// Issue 15, defect 7: the inner core.bulk waited for the bulk:core.bulk lock its own parent held, for good,
    /// and every later bulk queued behind them; aborting the outer job did not end it.
    @Test func nestedBulkRunsAndAbortingAJobAbortsItsChildren() async throws {
        let daemon = try await TestDaemon.start { $0.jobs.maxRunning = 1 }
        let client = try await daemon.client(as: "nobody", roles: [])
        // The issue's reproduction: three core.bulk jobs deep, each under the same bulk:core.bulk lock.
        let outer = try await client.call("core.bulk", ["core.bulk", [["core.bulk", [["core.ping", []]]]]])
        let result = try await client.call("core.job_wait", [outer])
        let middleID = try #require(result[0]?["job_id"]?.intValue, "\(result)")
        let innerID = try #require(result[0]?["result"]?[0]?["job_id"]?.intValue, "\(result)")
        #expect(result == [["job_id": .int(middleID), "result": [["job_id": .int(innerID), "result": [], "error": nil]], "error": nil]])
        for id in [middleID, innerID] { #expect(try await job(client, .int(id))["state"] == "SUCCESS") }
        // Later bulk jobs do not queue behind anything.
        let later = try await client.call("core.bulk", ["core.ping", [[]]])
        #expect(try await client.call("core.job_wait", [later]) == [["job_id": nil, "result": "pong", "error": nil]])

        // A long child: aborting its parent aborts it first, and both end ABORTED.
        let admin = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        let parent = try await admin.call("core.bulk", ["test.gated", [[gate()]]])
        var child: JSON = .null
        try await eventually("the child job runs") {
            child = try await admin.call("core.get_jobs", [[["method", "=", "test.gated"], ["state", "=", "RUNNING"]]])[0]?["id"] ?? .null
            return !child.isNull
        }
        #expect(try await admin.call("core.job_abort", [parent]) == true)
        #expect(try await admin.request("core.job_wait", [parent])["error"]?["data"]?["errname"] == "ECANCELED")
        #expect(try await job(admin, parent)["state"] == "ABORTED")
        #expect(try await job(admin, child)["state"] == "ABORTED")
        for c in [client, admin] { await c.close() }
        await daemon.stop()
    }

    /// Issue 15, defect 3: 3,000 no-op jobs of one user used to delete every other user's jobs and logs by
    /// count. Retention now counts per owner, unfinished jobs per user are capped, and when the count drops
    /// jobs younger than the age limit an alert says so.
    @Test func oneUsersVolumeNeverErasesAnothersJobs() async throws {
        let daemon = try await TestDaemon.start {
            $0.jobs.retentionCount = 100
            $0.jobs.maxPerUser = 2
        }
        let admin = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        _ = try await admin.call("core.subscribe", [.string(Alerts.eventName)])
        let reader = try await daemon.client(as: "reader", roles: ["READONLY_ADMIN"])
        var kept: [JSON] = []
        for _ in 0..<3 {
            let id = try await reader.call("test.job", [1, 1])
            _ = try await reader.call("core.job_wait", [id])
            kept.append(id)
        }
        // A user with no roles makes 300 jobs in one call (each child is that user's job).
        let flooder = try await daemon.client(as: "nobody", roles: [])
        let calls = JSON.array(Array(repeating: ["core.ping", [[]]] as JSON, count: 300))
        let flood = try await flooder.call("core.bulk", ["core.bulk", calls])
        _ = try await flooder.call("core.job_wait", [flood])
        for id in kept { #expect(try await job(reader, id)["state"] == "SUCCESS", "job \(id) of another user was kept") }
        let own = try await flooder.call("core.get_jobs", [[], ["count": true]])
        #expect((own.intValue ?? 0) <= 100 + 100, "\(own): the flooder's own history is bounded by the count (plus one pass's slack)")
        let alert = try await admin.nextNotification()
        #expect(alert["params"]?["fields"]?["kind"] == "jobs.retention", "\(alert)")
        #expect(alert["params"]?["fields"]?["owners"]?["nobody"] != nil, "\(alert)")

        // At most two unfinished jobs per user; FULL_ADMIN is not limited.
        let first = try await reader.call("test.gated", [gate()])
        let second = try await reader.call("test.gated", [gate()])
        let third = try await reader.request("test.job", [1, 1])
        #expect(third["error"]?["data"]?["errname"] == "EBUSY", "\(third)")
        #expect(third["error"]?["data"]?["reason"] == "Too many unfinished jobs of reader (2); wait for some to end")
        for _ in 0..<3 { _ = try await admin.call("test.job", [1, 1]) }
        for id in [first, second] { #expect(try await admin.call("core.job_abort", [id]) == true) }
        for client in [admin, reader, flooder] { await client.close() }
        await daemon.stop()
    }

    @Test func jobsAreVisibleToTheirOwnerOnly() async throws {
        let daemon = try await TestDaemon.start()
        let alice = try await daemon.client(as: "alice", roles: ["READONLY_ADMIN"])
        let bob = try await daemon.client(as: "bob", roles: ["READONLY_ADMIN"])
        let admin = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        _ = try await bob.call("core.subscribe", ["core.get_jobs"])
        let aliceJob = try await alice.call("test.job", [1])
        _ = try await alice.call("core.job_wait", [aliceJob])
        #expect(try await bob.call("core.get_jobs", [[["id", "=", aliceJob]]]) == [])
        #expect(try await bob.request("core.job_wait", [aliceJob])["error"]?["data"]?["error"] == 2)
        #expect(try await bob.request("core.job_abort", [aliceJob])["error"]?["data"]?["error"] == 2)
        #expect(try await admin.call("core.get_jobs", [[["id", "=", aliceJob]]]).arrayValue?.count == 1)
        #expect(try await alice.call("core.get_jobs", [[["id", "=", aliceJob]]]).arrayValue?.count == 1)
        // Bob's subscription saw none of Alice's job events: the first one it receives is about his own job.
        let marker = try await bob.call("test.job", [0])
        let first = try await bob.nextNotification()
        #expect(first["params"]?["id"] == marker, "\(first)")
        #expect(first["params"]?["msg"] == "added", "\(first)")
        for client in [alice, bob, admin] { await client.close() }
        await daemon.stop()
    }

    @Test func logsAndExcerpt() async throws {
        let daemon = try await TestDaemon.start()
        let client = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        let id = try await client.call("test.job", [30, 1])
        _ = try await client.call("core.job_wait", [id])
        let record = try await job(client, id)
        let path = try #require(record["logs_path"]?.stringValue)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.split(separator: "\n").count == 30)
        let excerpt = try #require(record["logs_excerpt"]?.stringValue)
        let lines = excerpt.split(separator: "\n").map(String.init)
        #expect(lines.count == 21)
        #expect(lines[0] == "step 1")
        #expect(lines[10] == "... 10 more lines ...")
        #expect(lines[20] == "step 30")
        await client.close()
        await daemon.stop()
    }

    @Test func jobsSurviveARestartAndIdsContinue() async throws {
        let dir = TestDaemon.makeStateDir()
        var daemon = try await TestDaemon.start(stateDir: dir)
        var client = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        let id = try await client.call("test.job", [1])
        _ = try await client.call("core.job_wait", [id])
        await client.close()
        await daemon.stop()
        daemon = try await TestDaemon.start(stateDir: dir)
        client = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await client.call("auth.login", ["admin", "pa55word"]) == true)
        #expect(try await job(client, id)["state"] == "SUCCESS")
        let next = try await client.call("test.job", [0])
        #expect(next.intValue! > id.intValue!)
        await client.close()
        await daemon.stop()
    }

    @Test func bulkCallsEachWithTheCallersRights() async throws {
        let daemon = try await TestDaemon.start()
        let client = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        let id = try await client.call("core.bulk", ["test.echo", [[1], ["two"], [], [3, 4]]])
        let result = try await client.call("core.job_wait", [id])
        let entries = try #require(result.arrayValue)
        #expect(entries.count == 4)
        #expect(entries[0] == ["job_id": nil, "result": 1, "error": nil])
        #expect(entries[1]["result"] == "two")
        #expect(entries[2]["error"]?.stringValue?.contains("Field required") == true)
        #expect(entries[3]["error"]?.stringValue?.contains("Too many arguments") == true)
        let jobs = try await client.call("core.bulk", ["test.job", [[1], [2]]])
        let jobResults = try await client.call("core.job_wait", [jobs])
        #expect(jobResults[0]?["job_id"]?.intValue != nil)
        #expect(jobResults[1]?["result"] == ["steps": 2])
        // A reader cannot use bulk to do what it may not do itself.
        let reader = try await daemon.client(as: "reader", roles: ["READONLY_ADMIN"])
        let denied = try await reader.call("core.bulk", ["user.create", [[["username": "sneaky"]]]])
        let deniedResult = try await reader.call("core.job_wait", [denied])
        #expect(deniedResult[0]?["error"] == "Not authorized")
        await reader.close()
        await client.close()
        await daemon.stop()
    }

    @Test func transientJobsSendNoEventsAndAreNotKept() async throws {
        let daemon = try await TestDaemon.start()
        let client = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        _ = try await client.call("core.subscribe", ["core.get_jobs"])
        _ = try await client.call("core.set_options", [["legacy_jobs": false]])
        #expect(try await client.call("test.transient") == "gone")
        #expect(try await client.call("core.get_jobs", [[["method", "=", "test.transient"]]]) == [])
        // A job that is kept, run after it: its events are the first to arrive.
        let marker = try await client.request("test.job", [0])
        let first = try await client.nextNotification()
        #expect(first["params"]?["fields"]?["method"] == "test.job", "\(first)")
        #expect(first["params"]?["msg"] == "added", "\(first)")
        #expect(marker["result"] == ["steps": 0])
        await client.close()
        await daemon.stop()
    }

    @Test func globalLimitMakesJobsWait() async throws {
        let daemon = try await TestDaemon.start { $0.jobs.maxRunning = 1 }
        let client = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        let held = gate()
        let first = try await client.call("test.gated", [held])
        let second = try await client.call("test.job", [1, 1])
        try await until(client, first, is: "RUNNING")
        #expect(try await job(client, second)["state"] == "WAITING")
        _ = try await client.call("test.open", [held])
        _ = try await client.call("core.job_wait", [second])
        let a = try await job(client, first)
        let b = try await job(client, second)
        #expect(b["time_started"]!["$date"]!.intValue! >= a["time_finished"]!["$date"]!.intValue!)
        await client.close()
        await daemon.stop()
    }

    @Test func retentionKeepsTheNewestAndIdsNeverRepeat() async throws {
        let dir = TestDaemon.makeStateDir()
        var daemon = try await TestDaemon.start(stateDir: dir) { $0.jobs.retentionCount = 3 }
        var client = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        var last: JSON = nil
        for _ in 0..<8 {
            last = try await client.call("test.job", [0])
            _ = try await client.call("core.job_wait", [last])
        }
        await client.close()
        await daemon.stop()
        daemon = try await TestDaemon.start(stateDir: dir) { $0.jobs.retentionCount = 3 }
        client = try await RPCClient.connect(to: daemon.tcp)
        _ = try await client.call("auth.login", ["admin", "pa55word"])
        let kept = try await client.call("core.get_jobs", [[], ["order_by": ["id"]]]).arrayValue?.compactMap { $0["id"]?.intValue } ?? []
        #expect(kept.count == 3)
        #expect(kept.last == last.intValue)
        let next = try await client.call("test.job", [0])
        #expect(next.intValue == last.intValue! + 1)
        await client.close()
        await daemon.stop()
    }
}
