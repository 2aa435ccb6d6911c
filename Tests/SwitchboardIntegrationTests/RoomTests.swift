import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore
import SwitchboardPlugins

/// Rooms over each WebSocket dialect: joining and leaving, the members' event stream, the refusals, and a member
/// whose connection closes.
@Suite(.serialized) struct RoomTests {
    static var pluginsWithLobby: [any Plugin] { BuiltinPlugins.all + [TestPlugin(), LobbyPlugin()] }

    static func start() async throws -> TestDaemon {
        try await TestDaemon.start(plugins: pluginsWithLobby)
    }

    /// Users with these names (password `pw`, role READONLY_ADMIN unless told), created through the local socket.
    static func users(_ daemon: TestDaemon, _ names: [String], roles: [String] = ["READONLY_ADMIN"]) async throws {
        let root = try await daemon.rootClient()
        for name in names {
            _ = try await root.call("user.create", [["username": .string(name), "password": "pw", "roles": JSON(strings: roles)]])
        }
        await root.close()
    }

    /// A driver of `dialect` (`jsonrpc`, `ddp`, `envelope`) on the daemon's TCP port, logged in unless `as` is nil.
    static func driver(_ daemon: TestDaemon, _ dialect: String, as user: String?, headers: [String: String] = [:]) async throws -> FrameDriver {
        let path = ["jsonrpc": "/api/current", "ddp": "/websocket", "envelope": "/socket"][dialect] ?? "/api/current"
        let ws = try await WebSocketConnection.connect(to: ConnectionTarget(.tcp(host: "127.0.0.1", port: daemon.port), path: path,
                                                                            headers: headers))
        let driver: FrameDriver
        switch dialect {
        case "ddp": driver = try await FrameDriver.ddp(ws)
        case "envelope": driver = FrameDriver.envelope(ws)
        default: driver = FrameDriver.jsonRPC(ws)
        }
        if let user { try await driver.login(user, "pw") }
        return driver
    }

    static func expectError(_ errno: Int64, _ body: () async throws -> JSON, sourceLocation: SourceLocation = #_sourceLocation) async {
        do {
            let result = try await body()
            Issue.record("expected errno \(errno), got \(result)", sourceLocation: sourceLocation)
        } catch let error as ScenarioError {
            #expect(error.errno == errno, "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected errno \(errno), got \(error)", sourceLocation: sourceLocation)
        }
    }

    /// The next event, as `kind id`.
    static func next(_ driver: FrameDriver) async throws -> String {
        let event = try await driver.nextEvent()
        #expect(event.collection == RoomDirectory.eventName)
        return "\(event.kind) \(event.id.stringValue ?? "\(event.id)")"
    }

    @Test(arguments: ["jsonrpc", "ddp", "envelope"])
    func membersJoinLeaveAndHearEachOther(dialect: String) async throws {
        let daemon = try await Self.start()
        try await Self.users(daemon, ["alice", "bob", "carol"])
        let alice = try await Self.driver(daemon, dialect, as: "alice")
        let bob = try await Self.driver(daemon, dialect, as: "bob")
        let carol = try await Self.driver(daemon, dialect, as: "carol")
        for driver in [alice, bob, carol] { _ = try await driver.subscribe(RoomDirectory.eventName) }
        let a = try #require(try await alice.call("lobby.session", []).stringValue)
        let b = try #require(try await bob.call("lobby.session", []).stringValue)
        let c = try #require(try await carol.call("lobby.session", []).stringValue)
        let room = "lobby.room.\(dialect)"

        let first = try await alice.call("room.join", [.string(room)])
        #expect(first.arrayValue?.map { $0["username"] } == ["alice"])
        #expect(first[0]?["id"] == .string("\(room)/\(a)") && first[0]?["session"] == .string(a) && first[0]?["room"] == .string(room))
        #expect(try await Self.next(alice) == "added \(room)/\(a)")
        // Bob hears who was there, then his own join; Alice hears him come.
        let second = try await bob.call("room.join", [.string(room)])
        #expect(second.arrayValue?.map { $0["username"] } == ["alice", "bob"])
        #expect(try await Self.next(bob) == "added \(room)/\(a)")
        #expect(try await Self.next(bob) == "added \(room)/\(b)")
        #expect(try await Self.next(alice) == "added \(room)/\(b)")
        // Joining twice is one membership, and nobody hears it again.
        #expect(try await bob.call("room.join", [.string(room)]).arrayValue?.count == 2)
        #expect(try await bob.call("room.members", [.string(room)]).arrayValue?.map { $0["username"] } == ["alice", "bob"])

        // Bob leaves: he hears the room empty for him; Alice hears him go.
        #expect(try await bob.call("room.leave", [.string(room)]) == true)
        #expect(try await bob.call("room.leave", [.string(room)]) == false)
        #expect(Set([try await Self.next(bob), try await Self.next(bob)]) == ["removed \(room)/\(a)", "removed \(room)/\(b)"])
        #expect(try await Self.next(alice) == "removed \(room)/\(b)")

        // A member whose connection closes leaves every room it was in.
        _ = try await bob.call("room.join", [.string(room)])
        #expect(try await Self.next(alice) == "added \(room)/\(b)")
        await bob.close()
        #expect(try await Self.next(alice) == "removed \(room)/\(b)")
        #expect(try await alice.call("room.members", [.string(room)]).arrayValue?.map { $0["username"] } == ["alice"])

        // Carol, subscribed but in no room, heard none of it: the first event she hears is her own join elsewhere.
        _ = try await carol.call("room.join", [.string(room + ".other")])
        #expect(try await Self.next(carol) == "added \(room).other/\(c)")
        await alice.close()
        await carol.close()
        await daemon.stop()
    }

    @Test(arguments: ["jsonrpc", "ddp", "envelope"])
    func joiningIsRefusedWithTheDocumentedErrors(dialect: String) async throws {
        let daemon = try await Self.start()
        try await Self.users(daemon, ["dave"])
        let dave = try await Self.driver(daemon, dialect, as: "dave")
        await Self.expectError(Int64(Errno.ENOENT)) { try await dave.call("room.join", ["nobody.declared"]) }
        await Self.expectError(Int64(Errno.EACCES)) { try await dave.call("room.join", ["lobby.staff"]) }
        await Self.expectError(Int64(Errno.EACCES)) { try await dave.call("room.members", ["lobby.staff"]) }
        await Self.expectError(dave.validationErrno) { try await dave.call("room.join", ["lobby.room.no spaces"]) }
        await Self.expectError(dave.validationErrno) { try await dave.call("room.join", ["lobby.room.*"]) }
        // A plugin may place its caller in a room the caller's roles would not admit.
        #expect(try await dave.call("lobby.enlist", []) == ["dave"])
        #expect(try await dave.call("room.members", ["lobby.staff"]).arrayValue?.map { $0["username"] } == ["dave"])
        await dave.close()
        // Without logging in, nothing.
        let anonymous = try await Self.driver(daemon, dialect, as: nil)
        await Self.expectError(Int64(Errno.ENOTAUTHENTICATED)) { try await anonymous.call("room.join", ["lobby.room.x"]) }
        await anonymous.close()
        await daemon.stop()
    }

    @Test func aFullRoomAndTheRoomLimitAreEBUSY() async throws {
        let daemon = try await Self.start()
        try await Self.users(daemon, ["u1", "u2", "u3", "u4"])
        var drivers: [FrameDriver] = []
        for name in ["u1", "u2", "u3", "u4"] { drivers.append(try await Self.driver(daemon, "jsonrpc", as: name)) }
        // lobby.room.* holds three members.
        for driver in drivers.prefix(3) { _ = try await driver.call("room.join", ["lobby.room.small"]) }
        await Self.expectError(Int64(Errno.EBUSY)) { try await drivers[3].call("room.join", ["lobby.room.small"]) }
        // A session is in 64 rooms at most.
        for index in 0..<RoomDirectory.maxRoomsPerSession { _ = try await drivers[3].call("room.join", [.string("lobby.room.r\(index)")]) }
        await Self.expectError(Int64(Errno.EBUSY)) { try await drivers[3].call("room.join", ["lobby.room.one-too-many"]) }
        let root = try await daemon.rootClient()
        let rows = try await root.call("room.query", [[["name", "^", "lobby.room.r"]], ["count": true]])
        #expect(rows == .int(Int64(RoomDirectory.maxRoomsPerSession)))
        let small = try await root.call("room.query", [[["name", "=", "lobby.room.small"]], ["get": true]])
        #expect(small["members"] == 3 && small["declared_by"] == "lobby.room.*" && small["plugin"] == "lobby")
        // The REST dialect has no connection to push to: its sessions cannot join.
        let rest = try await HTTPExchange.send("POST", "http://127.0.0.1:\(daemon.port)/api/v2.0/room/join",
                                               headers: HTTPExchange.basic("u1", "pw"), body: #""lobby.room.rest""#)
        #expect(rest.status == 422 || rest.status == 400, "\(rest.status) \(rest.text)")
        #expect(rest.text.contains("receives no messages"), "\(rest.text)")
        await root.close()
        for driver in drivers { await driver.close() }
        await daemon.stop()
    }
}
