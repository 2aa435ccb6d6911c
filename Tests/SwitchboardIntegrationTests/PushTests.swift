import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore

/// Targeted push: to one session, a user's sessions, a room, everyone; each session hears it in its own dialect
/// without subscribing, and only when the message's type admits it.
@Suite(.serialized) struct PushTests {
    /// The next pushed message's text, checking it is an `added` of `collection`.
    static func text(_ driver: FrameDriver, collection: String = "lobby.message") async throws -> String {
        let event = try await driver.nextEvent()
        #expect(event.collection == collection && event.kind == "added", "\(driver.dialect): \(event)")
        return event.fields["text"]?.stringValue ?? "\(event.fields)"
    }

    @Test func eachTargetReachesExactlyItsSessionsInEveryDialect() async throws {
        let daemon = try await RoomTests.start()
        try await RoomTests.users(daemon, ["alice", "bob"])
        try await RoomTests.users(daemon, ["boss"], roles: ["FULL_ADMIN"])
        let aliceJSON = try await RoomTests.driver(daemon, "jsonrpc", as: "alice")
        let aliceDDP = try await RoomTests.driver(daemon, "ddp", as: "alice")
        let aliceEnvelope = try await RoomTests.driver(daemon, "envelope", as: "alice")
        let bob = try await RoomTests.driver(daemon, "ddp", as: "bob")
        let boss = try await RoomTests.driver(daemon, "envelope", as: "boss")
        // Someone who never logged in hears nothing, whatever the target.
        let stranger = try await RoomTests.driver(daemon, "jsonrpc", as: nil)
        let room = "lobby.room.push"
        _ = try await aliceDDP.call("room.join", [.string(room)])
        _ = try await bob.call("room.join", [.string(room)])
        let envelopeSession = try #require(try await aliceEnvelope.call("lobby.session", []).stringValue)

        func push(_ target: JSON, _ text: String, secret: Bool = false, by driver: FrameDriver? = nil) async throws -> JSON {
            try await (driver ?? aliceJSON).call("lobby.push", [target, .string(text), .bool(secret)])
        }
        #expect(try await push(["session": .string(envelopeSession)], "one") == 1)
        #expect(try await push(["user": "alice"], "two") == 3)
        #expect(try await push(["room": .string(room)], "three") == 2)
        #expect(try await push(["everyone": true], "four") == 5)
        // A message of an administrators' type reaches only them, whoever is targeted.
        #expect(try await push(["everyone": true], "secret", secret: true, by: bob) == 1)
        #expect(try await push(["user": "bob"], "secret", secret: true, by: bob) == 0)
        #expect(try await push(["session": "no-such-session"], "lost") == 0)
        #expect(try await push(["room": "lobby.room.empty"], "lost") == 0)
        #expect(try await push(["everyone": true], "five") == 5)

        // Each heard exactly its own, in order; the last message proves nothing else came before it.
        #expect(try await Self.text(aliceJSON) == "two")
        #expect(try await Self.text(aliceJSON) == "four")
        #expect(try await Self.text(aliceJSON) == "five")
        #expect(try await Self.text(aliceDDP) == "two")
        #expect(try await Self.text(aliceDDP) == "three")
        #expect(try await Self.text(aliceDDP) == "four")
        #expect(try await Self.text(aliceDDP) == "five")
        #expect(try await Self.text(aliceEnvelope) == "one")
        #expect(try await Self.text(aliceEnvelope) == "two")
        #expect(try await Self.text(aliceEnvelope) == "four")
        #expect(try await Self.text(aliceEnvelope) == "five")
        #expect(try await Self.text(bob) == "three")
        #expect(try await Self.text(bob) == "four")
        #expect(try await Self.text(bob) == "five")
        #expect(try await Self.text(boss) == "four")
        #expect(try await Self.text(boss, collection: "lobby.secret") == "secret")
        #expect(try await Self.text(boss) == "five")
        // The stranger, logging in now, hears the next message to everyone and nothing from before.
        try await stranger.login("alice", "pw")
        #expect(try await push(["everyone": true], "six") == 6)
        #expect(try await Self.text(stranger) == "six")
        for driver in [aliceJSON, aliceDDP, aliceEnvelope, bob, boss, stranger] { await driver.close() }
        await daemon.stop()
    }

    @Test func pushedMessagesReachDDPAsAddedAndAreNotKeptAsDocuments() async throws {
        let daemon = try await RoomTests.start()
        try await RoomTests.users(daemon, ["alice"])
        let ws = try await WebSocketConnection.connect(to: ConnectionTarget(.tcp(host: "127.0.0.1", port: daemon.port), path: "/websocket"))
        let ddp = try await FrameDriver.ddp(ws)
        try await ddp.login("alice", "pw")
        let session = try #require(try await ddp.call("lobby.session", []).stringValue)
        let root = try await daemon.rootClient()
        // The same message id twice: DDP says `added` both times (a `changed` would break a client that dropped it).
        for text in ["a", "b"] {
            #expect(try await root.call("lobby.push", [["session": .string(session)], .string(text), false, 7]) == 1)
        }
        let first = try await ddp.nextEvent()
        let second = try await ddp.nextEvent()
        #expect(first.kind == "added" && second.kind == "added")
        #expect(first.fields["text"] == "a" && second.fields["text"] == "b")
        #expect(first.fields["from"] == "root" && first.id == 7 && second.id == 7)
        await root.close()
        await ddp.close()
        await daemon.stop()
    }
}
