import Foundation
import SwitchboardClient
import SwitchboardCore
import SwitchboardServer
import Testing

/// The example plugins, in their own processes: seed 000's Python interface through the host, and the Perl
/// plugin that speaks the protocol by hand. Methods, errors, jobs and events over every dialect; callbacks
/// with the caller's rights, never more.
@Suite struct ExamplePluginTests {
    @Test func methodsAndErrorsOverEveryDialect() async throws {
        let h = try await ExternalPluginHarness.start(["ExamplePlugin.py", "uptime.pl"])
        _ = try await h.root.call("user.create", [["username": "reader", "password": "pw", "roles": ["READONLY_ADMIN"]]])
        for driver in try await DialectSweepTests.drivers(h.daemon) {
            try await driver.login("reader", "pw")
            #expect(try await driver.call("example.hello", ["bob"]) == "Hello, bob", "\(driver.dialect)")
            #expect(try await driver.call("example.add", [2, 3]) == ["sum": 5], "\(driver.dialect)")
            #expect(try await driver.call("uptime.echo", [["a": [1, 2]]]) == ["a": [1, 2]], "\(driver.dialect)")
            // The plugin's errno and reason, as every dialect reports errors.
            do {
                _ = try await driver.call("example.fail", [])
                Issue.record("\(driver.dialect): example.fail succeeded")
            } catch let error as ScenarioError {
                #expect(error.errno == Int64(Errno.ENOENT) && error.reason.contains("There is no such thing"), "\(driver.dialect): \(error)")
            }
            // The params schema the plugin declared is checked by the daemon before the plugin sees the call.
            do {
                _ = try await driver.call("example.hello", [""])
                Issue.record("\(driver.dialect): an empty name passed the plugin's schema")
            } catch let error as ScenarioError {
                #expect(error.errno == driver.validationErrno, "\(driver.dialect): \(error)")
            }
            await driver.close()
        }
        // A Python exception reaches the client with the exception in exc_info.
        let crash = await ExternalPluginHarness.failure { try await h.root.call("example.crash") }
        #expect(crash?.errno == Int64(Errno.EFAULT) && crash?.reason == "division by zero", "\(String(describing: crash))")
        #expect(crash?.data["trace"]?["class"] == "ZeroDivisionError")
        #expect(crash?.data["trace"]?["exc_info"]?["traceback"]?.stringValue?.contains("1 / 0") == true)
        // ... and the host lives on.
        #expect(try await h.root.call("example.hello", ["again"]) == "Hello, again")
        // Private methods stay private; introspection shows what the plugin declared.
        let methods = try await h.root.call("core.get_methods")
        #expect(methods["example.internal"] == nil)
        #expect(methods["example.hello"]?["accepts"]?[0]?["type"] == "string")
        #expect(methods["example.hello"]?["roles"] == ["READONLY_ADMIN"])
        #expect(methods["example.count"]?["job"] == true)
        #expect(try await h.root.call("core.get_schemas")["example-sum"] != nil)
        let uptime = try await h.row("uptime")
        #expect(uptime["kind"] == "external" && uptime["dependencies"] == ["system"] && uptime["status"]?["version"] == "1.0")
        await h.stop()
    }

    @Test func jobsReportProgressToTheEndAndAbort() async throws {
        let h = try await ExternalPluginHarness.start(["ExamplePlugin.py"])
        let id = try #require(try await h.root.call("example.count", [5, 0.01]).intValue)
        #expect(try await h.root.call("core.job_wait", [.int(id)]) == 5)
        let job = try await h.root.call("core.get_jobs", [[["id", "=", .int(id)]], ["get": true]])
        #expect(job["state"] == "SUCCESS" && job["progress"]?["percent"] == 100 && job["progress"]?["description"] == "step 5 of 5")
        #expect(job["logs_excerpt"]?.stringValue?.contains("counted to 5") == true)
        // Submitted over every dialect, each job runs in the plugin to 100 %.
        _ = try await h.root.call("user.create", [["username": "runner", "password": "pw", "roles": ["FULL_ADMIN"]]])
        for driver in try await DialectSweepTests.drivers(h.daemon) {
            try await driver.login("runner", "pw")
            let submitted = try await driver.call("example.count", [3, 0.01])
            let jobID = try #require(submitted.intValue ?? submitted["job_id"]?.intValue, "\(driver.dialect): \(submitted)")
            #expect(try await h.root.call("core.job_wait", [.int(jobID)]) == 3, "\(driver.dialect)")
            let record = try await h.root.call("core.get_jobs", [[["id", "=", .int(jobID)]], ["get": true]])
            #expect(record["progress"]?["percent"] == 100 && record["credentials"]?["username"] == "runner", "\(driver.dialect)")
            await driver.close()
        }
        // verify() refuses before run().
        let refused = try #require(try await h.root.call("example.count", [0]).intValue)
        let failure = await ExternalPluginHarness.failure { try await h.root.call("core.job_wait", [.int(refused)]) }
        #expect(failure?.errno == Int64(Errno.EINVAL) && failure?.reason == "count must be at least 1", "\(String(describing: failure))")
        // A long count, aborted once it has started: the task's abort() stops run().
        let long = try #require(try await h.root.call("example.count", [10_000, 0.05]).intValue)
        try await eventually("the long count reports progress") {
            try await h.root.call("core.get_jobs", [[["id", "=", .int(long)]], ["get": true]])["progress"]?["percent"] != .null
        }
        #expect(try await h.root.call("core.job_abort", [.int(long)]) == true)
        try await eventually("the aborted job ends ABORTED") {
            try await h.root.call("core.get_jobs", [[["id", "=", .int(long)]], ["get": true]])["state"] == "ABORTED"
        }
        await h.stop()
    }

    @Test func eventSourcesRunOnDemandOverEveryDialect() async throws {
        let h = try await ExternalPluginHarness.start(["ExamplePlugin.py"])
        _ = try await h.root.call("user.create", [["username": "watcher", "password": "pw", "roles": ["FULL_ADMIN"]]])
        var dialects = 0
        for driver in try await DialectSweepTests.drivers(h.daemon) {
            try await driver.login("watcher", "pw")
            guard try await driver.subscribe("example.tick") else { continue }
            dialects += 1
            let first = try await driver.nextEvent()
            #expect(first.collection == "example.tick" && first.fields["n"]?.intValue != nil, "\(driver.dialect): \(first)")
            await driver.close()
        }
        #expect(dialects == 3)
        // With no subscriber left, the plugin's source threads are told to stop (source.stop).
        try await eventually("the plugin's source threads stop") {
            try await h.root.call("example.state.sources_running") == 0
        }
        // Events emitted by the plugin reach its own handler (register_event_handler) through the daemon.
        for name in ["a", "b", "c"] { _ = try await h.root.call("example.hello", [.string(name)]) }
        try await eventually("the handler saw three greetings") {
            try await h.root.call("example.state.greetings_seen") == 3
        }
        await h.stop()
    }

    @Test func callbacksCarryTheCallersRightsAndNeverMore() async throws {
        let h = try await ExternalPluginHarness.start(["ExamplePlugin.py"])
        let reader = try await h.daemon.client(as: "reader", roles: ["READONLY_ADMIN"])
        // A callback the caller may make works...
        #expect(try await reader.call("example.ping_back") == "pong")
        // ... one beyond the caller's roles is refused, though the plugin itself could call it.
        let refused = await ExternalPluginHarness.failure { try await reader.call("example.make_user", ["mallory"]) }
        #expect(refused?.errno == Int64(Errno.EACCES), "\(String(describing: refused))")
        await reader.close()
        #expect(try await h.root.call("user.query", [[["username", "=", "mallory"]]]) == [])
        // A full admin caller may.
        let created = try await h.root.call("example.make_user", ["trent"])
        #expect(created["username"] == "trent")
        await h.stop()
    }
}

/// The Python host's module-level conventions and run-time registration.
@Suite struct PythonHostTests {
    @Test func nameVersionConfigurationAndRegisteringAtRunTime() async throws {
        let h = try await ExternalPluginHarness.start(["configured.py"]) { configuration in
            configuration.plugins = ["user": ["bcrypt_cost": 4], "settings_demo": ["greeting": "hi"]]
        }
        let row = try await h.row("settings_demo")
        #expect(row["state"] == "loaded" && row["status"]?["version"] == "2.5", "\(row)")
        #expect(try await h.root.call("settings_demo.configuration") == ["greeting": "hi"])
        #expect(try await h.root.call("settings_demo.extra.there") == true)
        #expect(try await h.root.call("settings_demo.drop_extra") == true)
        let gone = await ExternalPluginHarness.failure { try await h.root.call("settings_demo.extra.there") }
        #expect(gone?.errno == Int64(Errno.ENOMETHOD))
        #expect(try await h.root.call("settings_demo.add_extra") == true)
        #expect(try await h.root.call("settings_demo.extra.there") == true)
        // An event type declared cluster-wide; a scope that is neither node nor cluster is refused by its path.
        let badScope = await ExternalPluginHarness.failure { try await h.root.call("settings_demo.add_shared", ["galaxy"]) }
        #expect(badScope?.reason.contains("event_types.settings_demo.shared.scope: must be node or cluster") == true, "\(String(describing: badScope))")
        #expect(try await h.root.call("settings_demo.add_shared", ["cluster"]) == true)
        let page = try await HTTPExchange.send("GET", "http://127.0.0.1:\(h.daemon.port)/api/docs")
        let line = page.text.split(separator: "\n").first { $0.contains("<code>settings_demo.shared</code>") }
        #expect(line?.hasSuffix("READONLY_ADMIN · cluster-wide</span></li>") == true, "\(String(describing: line))")
        // An event source gets the subscriber's argument.
        _ = try await h.root.call("user.create", [["username": "watcher", "password": "pw", "roles": ["FULL_ADMIN"]]])
        let driver = try await h.jsonRPCDriver()
        try await driver.login("watcher", "pw")
        #expect(try await driver.subscribe(#"settings_demo.echo:{"n":7}"#))
        #expect(try await driver.nextEvent().fields == ["argument": ["n": 7]])
        await driver.close()
        await h.stop()
    }

    @Test func thePluginsConfigurationSchemaIsCheckedAtStart() async throws {
        do {
            let h = try await ExternalPluginHarness.start(["configured.py"]) { configuration in
                configuration.plugins = ["user": ["bcrypt_cost": 4], "settings_demo": ["greting": "typo"]]
            }
            await h.stop()
            Issue.record("a key the plugin's schema refuses was accepted")
        } catch let error as ConfigurationError {
            #expect(error.path == "plugins.settings_demo.greting" && error.reason == "unknown key (known: enabled, greeting)", "\(error)")
        }
    }
}
