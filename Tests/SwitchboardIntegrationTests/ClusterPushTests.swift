import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore

/// Targeted push across two nodes on one PostgreSQL database: a push to a user, a room, everyone or a session
/// held by the other node reaches the sessions there, once, in order, and never shows as an event to subscribers.
@Suite(.serialized) struct ClusterPushTests {
    @Test func aPushReachesTheTargetsSessionsOnEveryNodeOnce() async throws {
        let dsn = try await TestPostgres.createDatabase()
        let a = try await ClusterDaemonTests.start(dsn, node: "pbx-a", plugins: RoomTests.pluginsWithLobby)
        let b = try await ClusterDaemonTests.start(dsn, node: "pbx-b", plugins: RoomTests.pluginsWithLobby)
        try await RoomTests.users(a, ["alice", "bob", "carol"])
        let aliceA = try await RoomTests.driver(a, "jsonrpc", as: "alice")
        let aliceB = try await RoomTests.driver(b, "ddp", as: "alice")
        let bobB = try await RoomTests.driver(b, "envelope", as: "bob")
        let carolA = try await RoomTests.driver(a, "jsonrpc", as: "carol")
        let room = "lobby.room.cluster"
        _ = try await bobB.call("room.join", [.string(room)])
        _ = try await carolA.call("room.join", [.string(room)])
        let bobSession = try #require(try await bobB.call("lobby.session", []).stringValue)
        // A FULL_ADMIN on B subscribed to everything: the relay's own messages never reach it as events.
        let (watcher, heard) = try await ClusterDaemonTests.subscriber(b, ["*"])
        let rootA = try await a.rootClient()

        func push(_ target: JSON, _ text: String) async throws -> JSON {
            try await rootA.call("lobby.push", [target, .string(text)])
        }
        // The count is this node's sessions; the other node's are reached through the relay.
        #expect(try await push(["user": "alice"], "to alice") == 1)
        #expect(try await push(["room": .string(room)], "to the room") == 1)
        #expect(try await push(["session": .string(bobSession)], "to bob's session") == 0)
        #expect(try await push(["everyone": true], "end") == 3)

        #expect(try await PushTests.text(aliceA) == "to alice")
        #expect(try await PushTests.text(aliceA) == "end")
        #expect(try await PushTests.text(aliceB) == "to alice")
        #expect(try await PushTests.text(aliceB) == "end")
        #expect(try await PushTests.text(bobB) == "to the room")
        #expect(try await PushTests.text(bobB) == "to bob's session")
        #expect(try await PushTests.text(bobB) == "end")
        #expect(try await PushTests.text(carolA) == "to the room")
        #expect(try await PushTests.text(carolA) == "end")
        try await eventually("the watcher's end") { heard.events("lobby.message").contains { $0["fields"]?["text"] == "end" } }
        #expect(heard.events("lobby.message").map { $0["fields"]?["text"] } == ["end"])
        #expect(heard.events("switchboard.push").isEmpty)
        for driver in [aliceA, aliceB, bobB, carolA] { await driver.close() }
        await ClusterDaemonTests.finish(dsn, daemons: [a, b], clients: [watcher, rootA])
    }
}
