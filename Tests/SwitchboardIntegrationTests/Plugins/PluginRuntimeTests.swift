import Foundation
import SwitchboardClient
import SwitchboardCore
import SwitchboardPlugins
import SwitchboardServer
import Testing

/// The plugin runtime end to end: what a plugin registers is owned and withdrawn, reloads keep clients
/// connected, and a plugin that fails leaves the rest running.
@Suite struct PluginRuntimeTests {
    struct Harness {
        let daemon: TestDaemon
        let root: RPCClient
        let settings: PluginSettings
        let handled: HandledCount
        let gates: Gates

        static func start(log: LogCapture? = nil, configure: @escaping (inout DaemonConfiguration) -> Void = { _ in }) async throws -> Harness {
            let settings = PluginSettings()
            let handled = HandledCount()
            let gates = Gates()
            let plugins: [any Plugin] = BuiltinPlugins.all + [TestPlugin(), KindsPlugin(handled: handled, gates: gates), KindsChildPlugin()]
            let daemon = try await TestDaemon.start(plugins: plugins, logHandler: log, reloadSettings: settings, configure: configure)
            return Harness(daemon: daemon, root: try await daemon.rootClient(), settings: settings, handled: handled, gates: gates)
        }

        func row(_ plugin: String) async throws -> JSON {
            try await root.call("plugin.query", [[["name", "=", .string(plugin)]], ["get": true]])
        }

        func stop() async {
            await root.close()
            await daemon.stop()
        }
    }

    static func errno(_ call: () async throws -> JSON) async -> (Int64, String)? {
        do {
            _ = try await call()
            return nil
        } catch ClientError.call(_, _, let data) {
            return (data["error"]?.intValue ?? 0, data["reason"]?.stringValue ?? "")
        } catch {
            return (-1, "\(error)")
        }
    }

    @Test func everythingAPluginRegisteredIsWithdrawnWhenItIsUnloaded() async throws {
        let h = try await Harness.start()
        let base = "http://127.0.0.1:\(h.daemon.port)"
        _ = try await h.root.call("user.create", [["username": "alice", "password": "pw", "roles": ["READONLY_ADMIN"]]])
        var row = try await h.row("kinds")
        #expect(row["state"] == "loaded" && row["dependents"] == ["kinds_child"])
        let registered = try #require(row["registered"])
        #expect(registered["services"] == ["kinds"])
        #expect(registered["methods"] == ["kinds.greet", "kinds.emit", "kinds.job", "kinds.steady"])
        #expect(registered["event_types"] == ["kinds.event"] && registered["event_sources"] == ["kinds.source"])
        #expect(registered["event_handlers"] == 1 && registered["schemas"] == ["KindsName", "KindsGreeting"])
        #expect(registered["http_routes"] == ["GET /plugins/kinds/greeting"] && registered["tables"] == ["kinds_notes"])
        #expect(registered["workers"] == ["kinds.worker"])
        #expect(registered["rooms"] == ["kinds.room"] && registered["session_managers"] == ["kinds.manager"])
        #expect(try await h.root.call("room.join", ["kinds.room"]).arrayValue?.count == 1)
        #expect(try await h.root.call("worker.query", [[["name", "=", "kinds.worker"]], ["get": true]])["state"] == "running")
        #expect(try await h.root.call("core.get_methods")["kinds.greet"] != nil)
        let events = try await h.root.call("core.get_events")
        #expect(events["kinds.event"] != nil && events["kinds.source"] != nil)
        #expect(try await h.root.call("core.get_schemas")["KindsName"] == ["type": "string", "minLength": 1, "maxLength": 10])
        // The $ref to a named definition validates, with the path into the argument.
        #expect(try await h.root.call("kinds.greet", [["name": "bob"]]) == "Hello, bob")
        let refused = await Self.errno { try await h.root.call("kinds.greet", [["name": ""]]) }
        #expect(refused?.0 == Int64(Errno.EINVAL))
        do {
            _ = try await h.root.call("kinds.greet", [["name": "much too long a name"]])
            Issue.record("a name over the definition's maxLength was accepted")
        } catch ClientError.call(_, _, let data) {
            #expect(data["extra"]?[0]?[0] == "who.name", "\(data)")
        }
        // ... and appears in OpenAPI.
        let openAPI = try JSON.parse(try await HTTPExchange.send("GET", base + "/api/v2.0/openapi.json").text)
        #expect(openAPI["components"]?["schemas"]?["KindsName"] == ["type": "string", "minLength": 1, "maxLength": 10])
        #expect(openAPI["components"]?["schemas"]?["KindsGreeting"]?["properties"]?["name"] == ["$ref": "#/components/schemas/KindsName"])
        // ... and in OpenRPC, with the plugin's event type.
        let openRPC = try await h.root.call("rpc.discover")
        #expect(Self.methodNames(openRPC).contains("kinds.greet"))
        #expect(openRPC["components"]?["schemas"]?["KindsName"] == ["type": "string", "minLength": 1, "maxLength": 10])
        #expect(openRPC["x-events"]?.arrayValue?.contains { $0["name"] == "kinds.event" } == true)
        // The HTTP route, authenticated as REST is.
        let greeting = try await HTTPExchange.send("GET", base + "/plugins/kinds/greeting", headers: HTTPExchange.basic("alice", "pw"))
        #expect(greeting.status == 200 && greeting.text == "Hello, alice")
        #expect(try await HTTPExchange.send("GET", base + "/plugins/kinds/greeting").status == 401)
        #expect(try await HTTPExchange.send("POST", base + "/plugins/kinds/greeting", headers: HTTPExchange.basic("alice", "pw")).status == 405)
        // The handler runs inside the publish: once test.emit returns, it has run.
        _ = try await h.root.call("test.emit", [2])
        #expect(h.handled.value == 2)

        h.settings.set("kinds", ["enabled": false])
        let rows = try await h.root.call("plugin.reload", ["kinds"])
        #expect(rows.arrayValue?.map { $0["name"] } == ["kinds", "kinds_child"])
        #expect(rows.arrayValue?.map { $0["state"] } == ["disabled", "unloaded"])
        row = try await h.row("kinds")
        #expect(row["registered"] == ["services": [], "methods": [], "event_types": [], "event_sources": [], "event_handlers": 0,
                                      "schemas": [], "http_routes": [], "tables": [], "workers": [], "rooms": [],
                                      "session_managers": []])
        // The room's declaration went with it, and so did its member.
        #expect(try await h.root.call("room.query", [[["plugin", "=", "kinds"]]]) == [])
        let gone = await Self.errno { try await h.root.call("room.members", ["kinds.room"]) }
        #expect(gone?.0 == Int64(Errno.ENOENT))
        let methods = try #require(try await h.root.call("core.get_methods").objectValue)
        #expect(!methods.keys.contains { $0.hasPrefix("kinds") })
        #expect(try await h.root.call("core.get_services")["kinds"] == nil)
        #expect(try await h.root.call("worker.query", [[["plugin", "=", "kinds"]]]) == [])
        let eventsAfter = try #require(try await h.root.call("core.get_events").objectValue)
        #expect(!eventsAfter.keys.contains { $0.hasPrefix("kinds") })
        let schemas = try #require(try await h.root.call("core.get_schemas").objectValue)
        #expect(!schemas.keys.contains { $0.hasPrefix("Kinds") })
        let openAPIAfter = try JSON.parse(try await HTTPExchange.send("GET", base + "/api/v2.0/openapi.json").text)
        #expect(openAPIAfter["components"]?["schemas"]?["KindsName"] == nil)
        let openRPCAfter = try await h.root.call("rpc.discover")
        #expect(!Self.methodNames(openRPCAfter).contains { $0.hasPrefix("kinds") })
        #expect(openRPCAfter["components"]?["schemas"]?["KindsName"] == nil)
        #expect(openRPCAfter["x-events"]?.arrayValue?.contains { $0["name"] == "kinds.event" } == false)
        #expect(await Self.errno { try await h.root.call("kinds.greet", [["name": "bob"]]) }?.0 == Int64(Errno.ENOMETHOD))
        #expect(await Self.errno { try await h.root.call("core.subscribe", ["kinds.event"]) }?.0 == Int64(Errno.ENOENT))
        #expect(try await HTTPExchange.send("GET", base + "/plugins/kinds/greeting", headers: HTTPExchange.basic("alice", "pw")).status == 404)
        _ = try await h.root.call("test.emit", [3])
        #expect(h.handled.value == 2, "the handler was removed")

        // Enabled again, it offers all of it again.
        h.settings.set("kinds", [:])
        _ = try await h.root.call("plugin.reload", ["kinds"])
        #expect(try await h.root.call("kinds.greet", [["name": "bob"]]) == "Hello, bob")
        #expect(try await h.root.call("kinds_child.ping") == "child")
        #expect(Self.methodNames(try await h.root.call("rpc.discover")).contains("kinds.greet"))
        await h.stop()
    }

    static func methodNames(_ openRPC: JSON) -> [String] {
        openRPC["methods"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
    }

    /// Clients of the three WebSocket dialects stay connected through a reload; their subscriptions to the
    /// reloaded plugin's event end with the dialect's message, and subscribing again works.
    @Test func reloadKeepsClientsOfEveryDialectConnected() async throws {
        let h = try await Harness.start()
        _ = try await h.root.call("user.create", [["username": "alice", "password": "pw", "roles": ["READONLY_ADMIN"]]])
        func ws(_ path: String) async throws -> WebSocketConnection {
            try await WebSocketConnection.connect(to: ConnectionTarget(.tcp(host: "127.0.0.1", port: h.daemon.port), path: path))
        }
        let drivers = [FrameDriver.jsonRPC(try await ws("/api/current")), try await FrameDriver.ddp(try await ws("/websocket")),
                       FrameDriver.envelope(try await ws("/socket"))]
        for driver in drivers {
            try await driver.login("alice", "pw")
            #expect(try await driver.subscribe("kinds.event"))
        }
        _ = try await h.root.call("kinds.emit", [1])
        for driver in drivers {
            let event = try await driver.nextEvent()
            #expect(event.collection == "kinds.event" && event.id == 1, "\(driver.dialect)")
        }
        h.settings.set("kinds", ["greeting": "Hi"])
        _ = try await h.root.call("plugin.reload", ["kinds"])
        // Each dialect's end-of-subscription message is the next frame.
        let jsonRPCEnd = try await drivers[0].ws.nextJSON()
        #expect(jsonRPCEnd["method"] == "notify_unsubscribed" && jsonRPCEnd["params"]?["collection"] == "kinds.event", "\(jsonRPCEnd)")
        let ddpEnd = try await drivers[1].ws.nextJSON()
        #expect(ddpEnd["msg"] == "nosub" && ddpEnd["id"] == "r2", "\(ddpEnd)")
        let envelopeEnd = try await drivers[2].ws.nextJSON()
        #expect(envelopeEnd["namespace"] == "events" && envelopeEnd["name"] == "unsubscribed" && envelopeEnd["args"]?["name"] == "kinds.event",
                "\(envelopeEnd)")
        // Still connected, and the reload read the configuration again.
        for driver in drivers {
            #expect(try await driver.call("core.ping", []) == "pong", "\(driver.dialect)")
            #expect(try await driver.call("kinds.greet", [["name": "bob"]]) == "Hi, bob", "\(driver.dialect)")
            #expect(try await driver.subscribe("kinds.event"))
        }
        _ = try await h.root.call("kinds.emit", [2])
        for driver in drivers {
            let event = try await driver.nextEvent()
            #expect(event.collection == "kinds.event" && event.id == 2, "\(driver.dialect)")
            await driver.close()
        }
        await h.stop()
    }

    /// A setUp that throws on a reload leaves that plugin failed with its error and its dependents unloaded;
    /// the rest keep running, and a good configuration brings both back, in order.
    @Test func aSetUpThatThrowsLeavesTheRestRunning() async throws {
        let h = try await Harness.start()
        h.settings.set("kinds", ["fail": true])
        let failure = await Self.errno { try await h.root.call("plugin.reload", ["kinds"]) }
        #expect(failure?.0 == Int64(Errno.EFAULT) && failure?.1 == "plugin kinds failed to set up: [EIO] kinds cannot start: fail is set")
        #expect(try await h.row("kinds")["state"] == "failed")
        #expect(try await h.row("kinds")["last_error"] == "[EIO] kinds cannot start: fail is set")
        #expect(try await h.row("kinds_child")["last_error"] == "plugin 'kinds_child' depends on 'kinds', which is failed")
        #expect(try await h.root.call("core.ping") == "pong")
        #expect(try await h.root.call("system.info")["version"] != nil)
        h.settings.set("kinds", [:])
        let rows = try await h.root.call("plugin.reload", ["kinds"])
        #expect(rows.arrayValue?.map { $0["name"] } == ["kinds", "kinds_child"] && rows.arrayValue?.map { $0["state"] } == ["loaded", "loaded"])
        await h.stop()
    }

    /// A job of a reloading plugin finishes within the grace; past it, it is aborted with the reason.
    @Test func runningJobsFinishWithinTheGraceThenAreAborted() async throws {
        let h = try await Harness.start()
        // The job's id at once, not its result (it waits on a gate the test opens later).
        _ = try await h.root.call("core.set_options", [["legacy_jobs": true]])
        let finishing = try #require(try await h.root.call("kinds.job").intValue)
        try await eventually("the job waits on its gate") { h.gates.waiting(on: "kinds") == 1 }
        let reload = Task { try await h.root.call("plugin.reload", ["kinds"]) }
        // Its methods are withdrawn first; the reload then waits for the job.
        try await eventually("kinds.job withdrawn") { try await h.root.call("core.get_methods")["kinds.job"] == nil }
        h.gates.open("kinds")
        _ = try await reload.value
        #expect(try await h.root.call("core.job_wait", [.int(finishing)]) == true)
        await h.stop()

        let quick = try await Harness.start { $0.pluginReloadGrace = .zero }
        _ = try await quick.root.call("core.set_options", [["legacy_jobs": true]])
        let aborted = try #require(try await quick.root.call("kinds.job").intValue)
        try await eventually("the job waits on its gate") { quick.gates.waiting(on: "kinds") == 1 }
        _ = try await quick.root.call("plugin.reload", ["kinds"])
        let record = try await quick.root.call("core.get_jobs", [.array([.array(["id", "=", .int(aborted)])]), ["get": true]])
        #expect(record["state"] == "ABORTED" && record["error"] == "Job aborted: plugin kinds is reloading", "\(record)")
        await quick.stop()
    }

    /// A job that cannot be aborted is never cut off: past the grace the unload logs it and waits for its end.
    @Test func aJobThatCannotBeAbortedIsWaitedFor() async throws {
        let log = LogCapture()
        let h = try await Harness.start(log: log) { $0.pluginReloadGrace = .zero }
        _ = try await h.root.call("core.set_options", [["legacy_jobs": true]])
        let id = try #require(try await h.root.call("kinds.steady").intValue)
        try await eventually("the job waits on its gate") { h.gates.waiting(on: "steady") == 1 }
        let reload = Task { try await h.root.call("plugin.reload", ["kinds"]) }
        try await eventually("the unload gave up aborting it") {
            log.lines.contains { $0.contains("job cannot be aborted; the plugin's unload waits for it to end") && $0.contains("job=\(id)") }
        }
        let running = try await h.root.call("core.get_jobs", [.array([.array(["id", "=", .int(id)])]), ["get": true]])
        #expect(running["state"] == "RUNNING", "\(running)")
        h.gates.open("steady")
        _ = try await reload.value
        #expect(try await h.root.call("core.job_wait", [.int(id)]) == true)
        #expect(try await h.row("kinds")["state"] == "loaded")
        await h.stop()
    }

    /// Event-source events take the bus's one path: a `*` subscriber receives `system.stats`, which another
    /// session's subscription started.
    @Test func aWildcardSubscriberReceivesEventSourceEvents() async throws {
        let h = try await Harness.start()
        let watcher = try await h.daemon.rootClient()
        _ = try await watcher.call("core.subscribe", ["*"])
        let starter = try await h.daemon.rootClient()
        _ = try await starter.call("core.subscribe", ["system.stats"])
        // Other events (jobs, alerts) may come first; system.stats arrives within its interval.
        var seen: JSON = .null
        while seen["params"]?["collection"] != "system.stats" { seen = try await watcher.nextNotification() }
        #expect(seen["params"]?["fields"]?.objectValue?.isEmpty == false, "\(seen)")
        await watcher.close()
        await starter.close()
        await h.stop()
    }

    /// The dialects rely on the daemon's own protocol methods, not on a plugin: with any one built-in plugin
    /// disabled, each WebSocket dialect and REST still answer, and a session can still subscribe.
    @Test(arguments: BuiltinPlugins.all.map(\.name))
    func disablingAnyPluginLeavesEveryDialectWorking(plugin: String) async throws {
        let daemon = try await TestDaemon.start(plugins: BuiltinPlugins.all) { configuration in
            var plugins = configuration.plugins.objectValue ?? [:]
            plugins[plugin] = ["enabled": false]
            configuration.plugins = .object(plugins)
        }
        func ws(_ path: String) async throws -> WebSocketConnection {
            try await WebSocketConnection.connect(to: ConnectionTarget(.tcp(host: "127.0.0.1", port: daemon.port), path: path))
        }
        let drivers = [FrameDriver.jsonRPC(try await ws("/api/current")), try await FrameDriver.ddp(try await ws("/websocket")),
                       FrameDriver.envelope(try await ws("/socket"))]
        for driver in drivers {
            #expect(try await driver.call("core.ping", []) == "pong", "\(driver.dialect) without \(plugin)")
            #expect(try await driver.call("core.set_options", [["py_exceptions": true]])["py_exceptions"] == true, "\(driver.dialect)")
            await driver.close()
        }
        let rest = try await HTTPExchange.send("GET", "http://127.0.0.1:\(daemon.port)/api/v2.0/core/ping")
        #expect(rest.status == 200 && rest.text == "\"pong\"", "REST without \(plugin): \(rest.status) \(rest.text)")
        let root = try await daemon.rootClient()
        let subscription = try await root.call("core.subscribe", ["core.get_jobs"])
        #expect(subscription.stringValue != nil)
        #expect(try await root.call("core.unsubscribe", [subscription]) == .null)
        #expect(try await root.call("plugin.query", [[["name", "=", .string(plugin)]], ["get": true]])["state"] == "disabled")
        await root.close()
        await daemon.stop()
    }
}
