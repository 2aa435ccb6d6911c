import Foundation
import SwitchboardClient
import SwitchboardCore
import Testing

/// Plugins that crash, loop, misbehave or never answer: their callers get a clear error at once, they are
/// restarted or quarantined, and the daemon and every other plugin carry on.
@Suite struct SupervisionTests {
    @Test func aCrashMidCallFailsTheCallAndTheJobAndThePluginComesBack() async throws {
        let h = try await ExternalPluginHarness.start(["Crashy.py", "uptime.pl"])
        let before = try #require(try await h.root.call("crashy.pid").intValue)
        let watcher = try await RPCClient.connect(to: h.daemon.unix)
        let failure = await ExternalPluginHarness.failure { try await h.root.call("crashy.die") }
        #expect(failure?.errno == Int64(Errno.EIO) && failure?.reason == "plugin Crashy crashed: exited with status 3",
                "\(String(describing: failure))")
        try await h.waitFor("Crashy", "running")
        let after = try #require(try await h.root.call("crashy.pid").intValue)
        #expect(after != before && !ExternalPluginHarness.alive(before))
        let row = try await h.row("Crashy")
        #expect(row["state"] == "loaded" && row["status"]?["restarts"] == 1)
        #expect(row["status"]?["last_exit"]?["code"] == 3)
        // A job running in the plugin when it dies ends FAILED with the reason.
        let job = try #require(try await h.root.call("crashy.dying_job").intValue)
        let jobFailure = await ExternalPluginHarness.failure { try await h.root.call("core.job_wait", [.int(job)]) }
        #expect(jobFailure?.errno == Int64(Errno.EIO) && jobFailure?.reason.hasPrefix("plugin Crashy crashed: exited with status 4") == true,
                "\(String(describing: jobFailure))")
        let record = try await h.root.call("core.get_jobs", [[["id", "=", .int(job)]], ["get": true]])
        #expect(record["state"] == "FAILED" && record["progress"]?["percent"] == 50)
        // The other plugin never noticed; the audit trail has each change with the last lines printed.
        #expect(try await h.root.call("uptime.echo", [1]) == 1)
        try await h.waitFor("Crashy", "running")
        let audit = try await h.root.call("audit.query", [[["event", "=", "PLUGIN"], ["method", "=", "plugin.restarting"]]])
        let lines = audit.arrayValue?.first?["arguments"]?["last_lines"]
        #expect(lines?.arrayValue?.contains("about to die in crashy.die") == true, "\(audit)")
        await watcher.close()
        await h.stop()
    }

    @Test func whileAPluginIsDownItsMethodsAnswerEAGAIN() async throws {
        let h = try await ExternalPluginHarness.start(["Crashy.py"]) { configuration in
            // Long enough a delay to call in it even on a loaded machine (1 s was not, with the suites running in
            // parallel); the supervisor still brings it back.
            configuration.externalPlugins.restart.initialDelay = .seconds(6)
            configuration.externalPlugins.restart.maxDelay = .seconds(6)
        }
        _ = try await h.root.call("user.create", [["username": "watcher", "password": "pw", "roles": ["READONLY_ADMIN"]]])
        let watcher = try await h.jsonRPCDriver()
        try await watcher.login("watcher", "pw")
        #expect(try await watcher.subscribe("plugin.process"))
        let pid = try #require(try await h.root.call("crashy.pid").intValue)
        kill(pid_t(pid), SIGKILL)
        // Subscribers see each change of the process: it went down (with how), then it is back.
        let change = try await watcher.nextEvent()
        #expect(change.collection == "plugin.process" && change.id == "Crashy" && change.fields["state"] == "restarting", "\(change)")
        #expect(change.fields["exit"]?["signal"] == 9 && change.fields["restarts"] == 1)
        try await h.waitFor("Crashy", "restarting")
        let down = await ExternalPluginHarness.failure { try await h.root.call("crashy.ok") }
        #expect(down?.errno == Int64(Errno.EAGAIN) && down?.reason == "plugin Crashy is restarting", "\(String(describing: down))")
        let row = try await h.row("Crashy")
        #expect(row["status"]?["last_exit"]?["signal"] == 9 && row["status"]?["next_start_ms"]?.intValue != nil)
        try await h.waitFor("Crashy", "running")
        #expect(try await h.root.call("crashy.ok") == "ok")
        var states: [JSON] = []
        while states.last != "running" { states.append(try await watcher.nextEvent().fields["state"] ?? .null) }
        #expect(states == ["starting", "running"])
        await watcher.close()
        await h.stop()
    }

    @Test func aPluginThatCrashesInALoopIsQuarantinedAndTheDaemonStaysHealthy() async throws {
        let h = try await ExternalPluginHarness.start(["crashloop", "uptime.pl"])
        let events = try await RPCClient.connect(to: h.daemon.unix)
        try await h.waitFor("crashloop", "quarantined")
        let row = try await h.row("crashloop")
        // Loaded (what it registers would stay), its process quarantined with why, retried at the longest delay.
        #expect(row["state"] == "loaded")
        #expect(row["status"]?["last_reason"]?.stringValue?.contains("before saying hello, it exited with status 7") == true, "\(row)")
        #expect((row["status"]?["restarts"]?.intValue ?? 0) >= 4)
        let audit = try await h.root.call("audit.query", [[["method", "=", "plugin.quarantined"]]])
        let record = try #require(audit.arrayValue?.first)
        #expect(record["success"] == false && record["arguments"]?["name"] == "crashloop")
        #expect(record["arguments"]?["last_lines"]?.arrayValue?.contains("crashloop: failing at once, as always") == true, "\(record)")
        #expect(try await h.root.call("core.ping") == "pong")
        #expect(try await h.root.call("uptime.echo", ["fine"]) == "fine")
        // It is never given up: the supervisor keeps retrying at the longest delay.
        let restarts = row["status"]?["restarts"]?.intValue ?? 0
        try await eventually("the quarantined plugin is retried") {
            (try await h.row("crashloop")["status"]?["restarts"]?.intValue ?? 0) > restarts
        }
        await events.close()
        await h.stop()
    }

    @Test func aPluginThatNeverSaysHelloIsKilledAndRetried() async throws {
        let h = try await ExternalPluginHarness.start(["silent", "uptime.pl"]) { configuration in
            configuration.externalPlugins.handshakeTimeout = .seconds(1)
        }
        // Discovery gave up on it after the timeout; the daemon started anyway with the other plugin.
        #expect(try await h.root.call("uptime.echo", [1]) == 1)
        let row = try await h.row("silent")
        #expect(row["status"]?["last_reason"]?.stringValue?.contains("no plugin.hello within 1") == true, "\(row)")
        try await eventually("the silent plugin is retried") {
            (try await h.row("silent")["status"]?["restarts"]?.intValue ?? 0) >= 1
        }
        await h.stop()
    }

    @Test(arguments: [
        ("rogue.garbage", "broke the protocol: invalid JSON"),
        ("rogue.long_line", "broke the protocol: a line over 1048576 bytes"),
        ("rogue.unknown", "broke the protocol: unknown message bogus.thing"),
        ("rogue.flood", "more than 16 daemon.call requests waiting at once (a flood)"),
    ])
    func aPluginThatBreaksTheProtocolIsKilledAndRestarted(method: String, reason: String) async throws {
        let h = try await ExternalPluginHarness.start(["rogue", "uptime.pl"]) { configuration in
            configuration.externalPlugins.maxLine = 1 << 20
            configuration.externalPlugins.maxPendingRequests = 16
        }
        let before = try #require(try await h.root.call("rogue.ok").intValue)
        let failure = await ExternalPluginHarness.failure { try await h.root.call(method) }
        #expect(failure?.errno == Int64(Errno.EIO) && failure?.reason.contains(reason) == true, "\(method): \(String(describing: failure))")
        try await eventually("rogue is back with another process") {
            guard let pid = try? await h.root.call("rogue.ok").intValue else { return false }
            return pid != before
        }
        #expect(!ExternalPluginHarness.alive(before))
        #expect(try await h.root.call("uptime.echo", ["untouched"]) == "untouched")
        await h.stop()
    }
}
