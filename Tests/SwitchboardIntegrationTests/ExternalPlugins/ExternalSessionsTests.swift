import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore

/// A Python plugin (Tests/Fixtures/plugins/Chatroom.py) with rooms, targeted push, a session manager and workers,
/// through the plugin protocol: the same capabilities a compiled-in plugin has.
@Suite(.serialized) struct ExternalSessionsTests {
    @Test func roomsPushAndATicketSessionManagerInEveryDialect() async throws {
        let h = try await ExternalPluginHarness.start(["Chatroom.py"])
        try await h.waitFor("chatroom", "running")
        _ = try await h.root.call("user.create", [["username": "alice", "password": "pw", "roles": ["READONLY_ADMIN"]]])
        _ = try await h.root.call("user.create", [["username": "bob", "password": "pw", "roles": ["READONLY_ADMIN"]]])
        let ticket = try #require(try await h.root.call("chat.issue_ticket", ["alice"]).stringValue)
        // Alice comes in with her ticket in each dialect; Bob logs in with a password.
        var alice: [FrameDriver] = []
        for dialect in ["jsonrpc", "ddp", "envelope"] {
            let driver = try await RoomTests.driver(h.daemon, dialect, as: nil, headers: ["Cookie": "chat_ticket=\(ticket)"])
            #expect(try await driver.call("auth.me", [])["pw_name"] == "alice", "\(dialect)")
            alice.append(driver)
        }
        let bob = try await RoomTests.driver(h.daemon, "jsonrpc", as: "bob")
        let forged = try await RoomTests.driver(h.daemon, "ddp", as: nil, headers: ["Cookie": "chat_ticket=forged"])
        await RoomTests.expectError(Int64(Errno.ENOTAUTHENTICATED)) { try await forged.call("auth.me", []) }
        await forged.close()

        // The plugin puts Alice's DDP session and Bob in a room; Bob subscribed to its members first.
        _ = try await bob.subscribe(RoomDirectory.eventName)
        #expect(try await alice[1].call("chat.enter", ["chat.lobby"]).arrayValue?.count == 1)
        let members = try await bob.call("chat.enter", ["chat.lobby"])
        #expect(members.arrayValue?.count == 2)
        let bobSession = try #require(try await bob.call("chat.session", []).stringValue)
        #expect(members.arrayValue?.last == .string(bobSession))
        #expect(try await bob.nextEvent().kind == "added")
        #expect(try await bob.nextEvent().kind == "added")

        #expect(try await bob.call("chat.say", ["chat.lobby", "hello room"]) == 2)
        #expect(try await bob.call("chat.whisper", ["alice", "psst"]) == 3)
        #expect(try await alice[0].call("chat.tell", [.string(bobSession), "just you"]) == 1)
        // Alice three times, Bob, and the harness's root client.
        #expect(try await bob.call("chat.announce", ["last"]) == 5)
        await RoomTests.expectError(Int64(Errno.ENOENT)) { try await bob.call("chat.enter", ["nochat.room"]) }

        #expect(try await PushTests.text(alice[0], collection: "chat.message") == "psst")
        #expect(try await PushTests.text(alice[0], collection: "chat.message") == "last")
        #expect(try await PushTests.text(alice[1], collection: "chat.message") == "hello room")
        #expect(try await PushTests.text(alice[1], collection: "chat.message") == "psst")
        #expect(try await PushTests.text(alice[1], collection: "chat.message") == "last")
        #expect(try await PushTests.text(alice[2], collection: "chat.message") == "psst")
        #expect(try await PushTests.text(alice[2], collection: "chat.message") == "last")
        #expect(try await PushTests.text(bob, collection: "chat.message") == "hello room")
        #expect(try await PushTests.text(bob, collection: "chat.message") == "just you")
        #expect(try await PushTests.text(bob, collection: "chat.message") == "last")
        for driver in alice + [bob] { await driver.close() }
        await h.stop()
    }
}

/// The same plugin's workers in the real binary: one that dies is restarted with backoff, then quarantined; one
/// that runs is stopped through its `disable` and started again.
@Suite struct ExternalWorkerBinaryTests {
    @Test func aPythonWorkerThatDiesIsRestartedWithBackoffThenQuarantined() async throws {
        let (served, folder) = try await Self.served(#""workers": ["chat.janitor", "chat.flaky"]"#)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let root = try await RPCClient.connect(to: ConnectionTarget(.unix(path: served.socket)))
        func worker(_ name: String) async throws -> JSON {
            try await root.call("worker.query", [[["name", "=", .string(name)]], ["get": true]])
        }
        let flaky = try await eventuallyValue("chat.flaky quarantined") {
            let row = try? await worker("chat.flaky")
            return row?["state"] == "quarantined" ? row : nil
        }
        // Two restarts within the intensity, the third failure quarantines it: 50 ms, then 100 ms, no jitter.
        #expect(flaky["restarts"] == 3 && flaky["plugin"] == "chatroom", "\(flaky)")
        #expect(flaky["last_error"]?.stringValue?.contains("ValueError: flaky by design") == true, "\(flaky)")
        let log = served.log
        #expect(log.contains("worker died; restarting") && log.contains("delay_ms=50") && log.contains("delay_ms=100"), "\(log)")
        #expect(log.contains("worker quarantined: it failed too often"), "\(log)")

        // The plugin's process is listed with its workers, and is not a worker to stop.
        let process = try await worker("plugin:chatroom")
        #expect(process["kind"] == "plugin" && process["state"] == "running" && process["plugin"] == "chatroom", "\(process)")
        do {
            _ = try await root.call("worker.stop", ["plugin:chatroom"])
            Issue.record("a plugin's process was stopped as a worker")
        } catch ClientError.call(_, _, let data) {
            #expect(data["error"] == .int(Int64(Errno.EINVAL)) && data["reason"] == "plugin:chatroom is a plugin's process: plugin.reload restarts it")
        }

        // The janitor runs; stopping it calls its disable, starting it runs the same instance again.
        try await eventually("the janitor runs") { try await worker("chat.janitor")["state"] == "running" }
        #expect(try await root.call("worker.stop", ["chat.janitor"])["state"] == "available")
        let stopped = try await eventuallyValue("disable was called") {
            let state = try await root.call("chat.janitor", [])
            return state["disables"] == 1 ? state : nil
        }
        #expect(stopped["runs"] == 1 && stopped["enabled"] == false, "\(stopped)")
        #expect(try await root.call("worker.start", ["chat.janitor"])["state"] == "running")
        try await eventually("the second run") { try await root.call("chat.janitor", [])["runs"] == 2 }
        await root.close()
        #expect(try await served.stop() == 0)
    }

    /// A daemon of the real binary with Chatroom.py and this `dispatcher` section's extra keys.
    static func served(_ extra: String) async throws -> (ServedBinary, String) {
        let folder = NSTemporaryDirectory() + "sb-linger-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: ExternalPluginHarness.fixtures.appendingPathComponent("Chatroom.py").path,
                                         toPath: folder + "/Chatroom.py")
        let served = try await ServedBinary.start(configuration: """
            {"dispatcher": {"plugin-dirs": ["\(folder)"], "python-host": "\(ExternalPluginHarness.pythonHost)", \(extra)}}
            """)
        return (served, folder)
    }

    /// SIGTERM with a call in flight: new calls are refused (ESHUTDOWN) while it finishes within the call grace,
    /// and its client gets its result before the connection closes.
    @Test func aStopLetsACallInFlightFinishWithinTheGraceAndRefusesNewOnes() async throws {
        let (served, folder) = try await Self.served(#""shutdown-call-grace-seconds": 120"#)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let root = try await RPCClient.connect(to: ConnectionTarget(.unix(path: served.socket)))
        let other = try await RPCClient.connect(to: ConnectionTarget(.unix(path: served.socket)))
        let call = Task { try await root.call("chat.linger", [2]) }
        try await served.waitForLog("lingering for 2 s")
        kill(served.pid, SIGTERM)
        try await served.waitForLog("stopping: new calls refused, waiting for the calls in flight")
        do {
            _ = try await other.call("chat.linger", [0])
            Issue.record("a new call was taken while the daemon was stopping")
        } catch ClientError.call(_, _, let data) {
            #expect(data["error"] == .int(Int64(Errno.ESHUTDOWN)) && data["errname"] == "ESHUTDOWN", "\(data)")
        }
        // REST says 503 with the errno, even to a request that would log in first.
        let rest = try await HTTPExchange.send("GET", "http://127.0.0.1:\(served.port)/api/v2.0/user",
                                               headers: ["Authorization": "Basic " + Data("root:x".utf8).base64EncodedString()])
        #expect(rest.status == 503 && rest.json?["errname"] == "ESHUTDOWN", "\(rest.status) \(rest.text)")
        // The operator's methods stay open: `ctl status` shows the stop under way.
        #expect(try await other.call(MethodName.controlStatus)["phase"] == "stopping")
        #expect(try await other.call(MethodName.ping) == "pong")
        #expect(try await call.value == "done")
        #expect(try await served.stop() == 0, "\(served.log)")
        #expect(!served.log.contains("interrupting the calls still in flight"))
        await root.close()
        await other.close()
    }

    /// Past the call grace, the call still running is interrupted (its client told the connection closed, the
    /// plugin told `call.cancel`) and the daemon exits cleanly, instead of waiting out the call.
    @Test func aStopInterruptsACallInFlightAfterTheGrace() async throws {
        let (served, folder) = try await Self.served(#""shutdown-call-grace-seconds": 1"#)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let root = try await RPCClient.connect(to: ConnectionTarget(.unix(path: served.socket)))
        let call = Task { try await root.call("chat.linger", [30]) }
        try await served.waitForLog("lingering for 30 s")
        let status = try await served.stop()
        #expect(status == 0, "\(served.log)")
        do {
            let result = try await call.value
            Issue.record("the call ran to its end (\(result)) instead of being interrupted")
        } catch {
            #expect(error is ClientError, "\(error)")
        }
        #expect(served.log.contains("interrupting the calls still in flight"), "\(served.log)")
        await root.close()
    }

    /// A second stop (here `control.stop`, as a second `switchboard ctl stop` sends it) cuts a long call grace
    /// short: the call still running is interrupted at once rather than after ten minutes.
    @Test func aSecondStopCutsTheCallGraceShort() async throws {
        let (served, folder) = try await Self.served(#""shutdown-call-grace-seconds": 600"#)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let root = try await RPCClient.connect(to: ConnectionTarget(.unix(path: served.socket)))
        let operator_ = try await RPCClient.connect(to: ConnectionTarget(.unix(path: served.socket)))
        let call = Task { try await root.call("chat.linger", [600]) }
        try await served.waitForLog("lingering for 600 s")
        kill(served.pid, SIGTERM)
        try await served.waitForLog("stopping: new calls refused, waiting for the calls in flight")
        #expect(try await operator_.call(MethodName.controlStop) == true)
        try await served.waitForLog("interrupting the calls still in flight")
        #expect(try await served.stop() == 0, "\(served.log)")
        do {
            let result = try await call.value
            Issue.record("the call ran to its end (\(result)) instead of being interrupted")
        } catch {
            #expect(error is ClientError, "\(error)")
        }
        await root.close()
        await operator_.close()
    }
}
