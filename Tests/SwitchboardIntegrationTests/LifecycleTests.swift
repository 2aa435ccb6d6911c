import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore
import SwitchboardPlugins
import SwitchboardServer

@Suite(.serialized) struct LifecycleTests {
    @Test func dataSurvivesARestart() async throws {
        let dir = TestDaemon.makeStateDir()
        var daemon = try await TestDaemon.start(stateDir: dir)
        var root = try await daemon.rootClient()
        _ = try await root.call("user.create", [["username": "persist", "password": "pw", "roles": ["FULL_ADMIN"]]])
        _ = try await root.call("system.general.update", [["timezone": "Europe/Berlin", "motd": "hello"]])
        await root.close()
        await daemon.stop()

        daemon = try await TestDaemon.start(stateDir: dir)
        root = try await daemon.rootClient()
        #expect(try await root.call("user.query", [[["username", "=", "persist"]], ["get": true]])["password_set"] == true)
        #expect(try await root.call("system.general.config")["timezone"] == "Europe/Berlin")
        let client = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await client.call("auth.login", ["persist", "pw"]) == true)
        // Ids are never reused: a new row after a delete gets a new id.
        let first = try await root.call("user.create", [["username": "temp1"]])
        _ = try await root.call("user.delete", [first["id"]!])
        let second = try await root.call("user.create", [["username": "temp2"]])
        #expect(second["id"]!.intValue! > first["id"]!.intValue!)
        await client.close()
        await root.close()
        await daemon.stop()
    }

    @Test func stopClosesOpenConnections() async throws {
        let daemon = try await TestDaemon.start()
        let client = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await client.call("core.ping") == "pong")
        // The client stays connected; stop must still finish.
        await daemon.stop()
        let error = await #expect(throws: ClientError.self) { try await client.call("core.ping") }
        guard case .closed = error else { Issue.record("expected the connection to be closed, got \(String(describing: error))"); return }
    }

    @Test func secondInstanceOnTheSameStateFolderIsRefused() async throws {
        let daemon = try await TestDaemon.start()
        await #expect(throws: InstanceLock.HeldError.self) {
            _ = try await TestDaemon.start(stateDir: daemon.stateDir)
        }
        // The real binary exits 1 (a failure to start, not a configuration error) with a clear message.
        let output = try await Binary.run(["serve", "--state-dir", daemon.stateDir, "--port", "0"])
        #expect(output.status == 1, "\(output.stderr)")
        #expect(output.stderr.contains("already running"))
        // The first daemon is unharmed.
        let client = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await client.call("core.ping") == "pong")
        await client.close()
        await daemon.stop()
    }

    @Test func staleLockOfADeadProcessIsTakenOver() async throws {
        let dir = TestDaemon.makeStateDir()
        // A lock file and a socket file left behind by a daemon that was killed.
        try "999999\n".write(toFile: dir + "/switchboard.lock", atomically: true, encoding: .utf8)
        #expect(FileManager.default.createFile(atPath: dir + "/switchboard.sock", contents: Data()))
        let daemon = try await TestDaemon.start(stateDir: dir)
        let root = try await daemon.rootClient()
        #expect(try await root.call("core.ping") == "pong")
        await root.close()
        await daemon.stop()
    }

    @Test func killedBinaryLeavesALockTheNextStartTakesOver() async throws {
        let dir = TestDaemon.makeStateDir()
        let (process, socket) = try await Binary.serve(stateDir: dir)
        let client = try await RPCClient.connect(to: ConnectionTarget(.unix(path: socket)))
        #expect(try await client.call("core.ping") == "pong")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let daemon = try await TestDaemon.start(stateDir: dir)
        let root = try await daemon.rootClient()
        #expect(try await root.call("core.ping") == "pong")
        await root.close()
        await daemon.stop()
    }

    @Test func sigtermStopsTheBinaryCleanly() async throws {
        let dir = TestDaemon.makeStateDir()
        let (process, socket) = try await Binary.serve(stateDir: dir)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(!FileManager.default.fileExists(atPath: socket))
    }

    /// The daemon makes UTC Foundation's default time zone (so that Hummingbird's Date-header calendar does
    /// not load ICU's zone tables); the Date header stays GMT and the log keeps the machine's local time.
    @Test func binaryKeepsLocalTimeInItsLogAndGMTInItsDateHeader() async throws {
        guard let path = Binary.path else {
            Issue.record("the switchboard executable was not found next to the tests; run `swift build` first")
            return
        }
        let dir = TestDaemon.makeStateDir()
        let logPath = dir + "/stderr.log"
        #expect(FileManager.default.createFile(atPath: logPath, contents: nil))
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["serve", "--state-dir", dir, "--port", "0"]
        process.environment = Binary.environment.merging(["TZ": "IST-5:30"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = log
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        var text = ""
        let deadline = ContinuousClock.now + .seconds(20)
        while !text.contains("ready in"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        }
        let ready = try #require(text.split(separator: "\n").first { $0.contains("ready in") })
        // A POSIX rule (UTC+05:30, no daylight saving) needs no zone database and has one offset all year.
        #expect(ready.hasPrefix("20") && ready.split(separator: " ").first?.hasSuffix("+0530") == true, "\(ready)")
        let listen = try #require(ready.split(separator: " ").first { $0.hasPrefix("listen=") })
        let answer = try await HTTPExchange.send("GET", listen.dropFirst("listen=".count) + "/health")
        #expect(answer.status == 200)
        let date = try #require(answer.headers["date"])
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "GMT")
        format.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let sent = try #require(format.date(from: date), "\(date)")
        #expect(abs(sent.timeIntervalSinceNow) < 120, "\(date)")
    }

    @Test func crudWritesPublishEvents() async throws {
        let daemon = try await TestDaemon.start(plugins: BuiltinPlugins.all + [TestPlugin(), EventRecorderPlugin()])
        let root = try await daemon.rootClient()
        let user = try await root.call("user.create", [["username": "evt"]])
        _ = try await root.call("user.update", [user["id"]!, ["full_name": "E V T"]])
        _ = try await root.call("user.delete", [user["id"]!])
        let events = try await root.call("test.recorded_events")
        #expect(events == [
            ["name": "user.query", "kind": "added", "id": user["id"]!, "username": "evt"],
            ["name": "user.query", "kind": "changed", "id": user["id"]!, "username": "evt"],
            ["name": "user.query", "kind": "removed", "id": user["id"]!, "username": nil],
        ])
        await root.close()
        await daemon.stop()
    }

    @Test func crudErrors() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        let missing = try await root.request("user.get_instance", [999])
        #expect(missing["error"]?["data"]?["error"] == 2)
        #expect(try await root.request("user.update", [999, ["full_name": "x"]])["error"]?["data"]?["error"] == 2)
        #expect(try await root.request("user.delete", [999])["error"]?["data"]?["error"] == 2)
        let getMiss = try await root.request("user.query", [[["username", "=", "ghost"]], ["get": true]])
        #expect(getMiss["error"]?["data"]?["error"] == 2)
        #expect(getMiss["error"]?["data"]?["reason"] == "MatchNotFound")
        let badFilter = try await root.request("user.query", [[["username", "bogus", 1]]])
        #expect(badFilter["error"]?["code"] == -32602)
        #expect(badFilter["error"]?["data"]?["extra"]?[0]?[0] == "filters.0")
        _ = try await root.call("user.create", [["username": "someone"]])
        let badType = try await root.request("user.query", [[["id", ">", "x"]]])
        #expect(badType["error"]?["data"]?["error"] == 22)
        await root.close()
        await daemon.stop()
    }

    @Test func crudQueryPushdownAgreesWithTheEngine() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        let names = ["amy", "Amanda", "bob", "bobby", "carl", "d_x", "dxy", "zed"]
        for (i, name) in names.enumerated() {
            _ = try await root.call("user.create", [["username": .string(name), "locked": .bool(i % 2 == 0), "full_name": .string(i == 6 ? "50%_off" : "N\(i)")]])
        }
        let cases: [JSON] = [
            [["username", "^", "am"]], [["username", "C^", "am"]], [["username", "^", "d_"]], [["username", "$", "y"]],
            [["username", "!=", "bob"]], [["locked", "=", true]], [["locked", "!=", true]], [["id", "in", [1, 3, 99]]],
            [["id", "nin", [1, 3]]], [["id", ">", 4], ["id", "<=", 6]], [["email", "=", nil]], [["email", "!=", nil]],
            [["OR", [["username", "=", "amy"], ["username", "=", "zed"]]]], [["username", "~", "^b.b"]],
            [["full_name", "^", "50%"]], [["full_name", "^", "5_"]], [["full_name", "$", "%_off"]], [["username", "^", "d_"]],
        ]
        for filters in cases {
            let viaQuery = try await root.call("user.query", [filters, ["select": ["username"], "order_by": ["username"]]])
            let everything = try await root.call("user.query", [[], [:]])
            let expected = try QueryEngine.run(everything.arrayValue ?? [], filters: QueryFilter.parseList(filters),
                                               options: QueryOptions.parse(["select": ["username"], "order_by": ["username"]]))
            #expect(viaQuery == expected, "filters \(filters)")
        }
        await root.close()
        await daemon.stop()
    }
}

/// Records every event it sees, to check what CRUD writes publish.
struct EventRecorderPlugin: Plugin {
    let name = "recorder"
    let dependencies = ["core"]

    func setUp(_ context: PluginContext) async throws {
        let box = RecordedEvents()
        context.onEvent("user.*") { event in box.append(event) }
        try context.register(MethodDescriptor("test.recorded_events", returns: true, roles: [Role.readonlyAdmin]) { _, _ in
            .array(box.all.map { ["name": .string($0.name), "kind": .string($0.kind.rawValue), "id": $0.id, "username": $0.fields["username"] ?? .null] })
        })
    }
}

import Synchronization

final class RecordedEvents: Sendable {
    private let events = Mutex<[Event]>([])
    func append(_ event: Event) { events.withLock { $0.append(event) } }
    var all: [Event] { events.withLock { $0 } }
}
