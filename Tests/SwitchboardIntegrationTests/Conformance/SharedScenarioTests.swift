import Testing
import SwitchboardClient
import SwitchboardCore

/// One scenario, described once, run on every dialect: log in, call, run a job to SUCCESS watching its
/// progress, subscribe and receive an event, and be refused with the common error model.
@Suite(.serialized) struct SharedScenarioTests {
    /// The scenario. Each step says what any client of any dialect must see.
    static func scenario(_ driver: any ScenarioDriver) async throws {
        let dialect = driver.dialect
        // Before login, a protected method is refused with ENOTAUTHENTICATED.
        do {
            _ = try await driver.call("user.query", [])
            Issue.record("\(dialect): user.query answered before login")
        } catch let error as ScenarioError {
            #expect(error.errno == 207, "\(dialect): \(error)")
        }
        try await driver.login("admin", "pa55word")

        // Calls: results are the same JSON everywhere.
        #expect(try await driver.call("core.ping", []) == "pong", "\(dialect)")
        #expect(try await driver.call("test.echo", [["nested": [1, "two", nil, ["x": 2.5]]]]) == ["nested": [1, "two", nil, ["x": 2.5]]], "\(dialect)")

        // Validation errors name the attribute.
        do {
            _ = try await driver.call("test.sleep", ["soon"])
            Issue.record("\(dialect): a string was accepted as milliseconds")
        } catch let error as ScenarioError {
            #expect(error.errno == driver.validationErrno && error.attributes == ["milliseconds"], "\(dialect): \(error)")
        }

        // A job, watched to SUCCESS: by its events where the dialect has them, else by polling core.get_jobs.
        let events = try await driver.subscribe("core.get_jobs")
        // Steps 150 ms apart: more than `jobs.progress-interval-ms`, so pacing sends every one.
        let job = try await driver.call("test.job", [3, 150])
        #expect(job.intValue != nil, "\(dialect): a job method returns the job id, got \(job)")
        var percents: [Int64] = []
        var final = JSON.null
        // Bounds a hang only: a loaded machine may take its time over three 150 ms steps.
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if events {
                let event = try await driver.nextEvent()
                guard event.collection == "core.get_jobs", event.id == job else { continue }
                if let percent = event.fields["progress"]?["percent"]?.intValue, percents.last != percent { percents.append(percent) }
                if event.fields["state"] == "SUCCESS" {
                    final = event.fields
                    break
                }
            } else {
                let rows = try await driver.call("core.get_jobs", [[["id", "=", job]]])
                let row = rows[0] ?? .null
                if let percent = row["progress"]?["percent"]?.intValue, percents.last != percent { percents.append(percent) }
                if row["state"] == "SUCCESS" {
                    final = row
                    break
                }
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        #expect(final["result"] == ["steps": 3], "\(dialect): \(final)")
        #expect(percents.last == 100 && percents == percents.sorted(), "\(dialect): progress \(percents)")
        if events { #expect(percents.contains(33) && percents.contains(66), "\(dialect): every step's progress arrives, got \(percents)") }
        #expect(try await driver.call("core.job_wait", [job]) == ["steps": 3], "\(dialect)")

        // An event, delivered to a subscriber.
        if try await driver.subscribe("test.fanout") {
            #expect(try await driver.call("test.emit", [1]) == true)
            var received: ScenarioEvent?
            for _ in 0..<100 {
                let event = try await driver.nextEvent()
                if event.collection == "test.fanout" {
                    received = event
                    break
                }
            }
            #expect(received?.id == 0 && received?.fields == ["n": 0, "pad": "xxxxxxxxxx"], "\(dialect)")
            // DDP clients hold documents, so the first news of one is `added`; the others say what happened.
            #expect(received?.kind == (dialect == "DDP" ? "added" : "changed"), "\(dialect)")
        } else {
            #expect(dialect == "REST", "only REST has no events")
        }
    }

    @Test(arguments: ["JSON-RPC", "DDP", "envelope", "REST"]) func scenarioPassesOn(dialect: String) async throws {
        let daemon = try await TestDaemon.start()
        await (try daemon.client(as: "admin", roles: [Role.fullAdmin])).close()
        func socket(_ path: String) async throws -> WebSocketConnection {
            var target = daemon.tcp
            target.path = path
            return try await WebSocketConnection.connect(to: target)
        }
        let driver: any ScenarioDriver
        switch dialect {
        case "JSON-RPC": driver = FrameDriver.jsonRPC(try await socket("/api/current"))
        case "DDP": driver = try await FrameDriver.ddp(try await socket("/websocket"))
        case "envelope": driver = FrameDriver.envelope(try await socket("/socket"))
        default: driver = RESTDriver(base: "http://127.0.0.1:\(daemon.port)")
        }
        try await Self.scenario(driver)
        await driver.close()
        await daemon.stop()
    }
}
