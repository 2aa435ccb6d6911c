import Testing
import SwitchboardClient
import SwitchboardCore
import SwitchboardWire

/// The DDP-style dialect of spec/protocols.md on `/websocket`, frame by frame, over a real socket.
@Suite(.serialized) struct DDPProtocolTests {
    func connect(_ daemon: TestDaemon, unix: Bool = false) async throws -> WebSocketConnection {
        var target = unix ? daemon.unix : daemon.tcp
        target.path = "/websocket"
        return try await WebSocketConnection.connect(to: target)
    }

    func handshake(_ ws: WebSocketConnection) async throws {
        try await ws.send(#"{"msg":"connect","version":"1","support":["1"],"features":{}}"#)
        let reply = try await ws.nextJSON()
        #expect(reply["msg"] == "connected")
        #expect(reply["session"]?.stringValue?.count == 36)
    }

    @Test func handshakeComesFirstAndAnythingElseFails() async throws {
        let daemon = try await TestDaemon.start()
        let ws = try await connect(daemon)
        try await ws.send(#"{"msg":"method","id":"1","method":"core.ping","params":[]}"#)
        #expect(try await ws.nextJSON() == ["msg": "failed", "version": "1"])
        try await ws.send(#"{"msg":"connect","version":"2","support":["2"]}"#)
        #expect(try await ws.nextJSON() == ["msg": "failed", "version": "1"])
        // A correct connect after a failed one still works: the connection is not dropped.
        try await handshake(ws)
        await ws.close()
        await daemon.stop()
    }

    /// Meteor's heartbeat: a silent connection gets `ping`; one that answers stays, one that does not is closed.
    @Test func serverPingsASilentClientAndClosesOneThatNeverAnswers() async throws {
        let daemon = try await TestDaemon.start { $0.ddpHeartbeat = .seconds(1) }
        let ws = try await connect(daemon)
        try await handshake(ws)
        #expect(try await ws.nextJSON(timeout: .seconds(5)) == ["msg": "ping", "id": "1"])
        try await ws.send(#"{"msg":"pong","id":"1"}"#)
        #expect(try await ws.nextJSON(timeout: .seconds(5)) == ["msg": "ping", "id": "2"], "a new silence, a new ping")
        try await ws.send(#"{"msg":"method","id":"m","method":"core.ping"}"#)
        #expect(try await ws.nextJSON() == ["id": "m", "msg": "result", "result": "pong"])
        // Now silent for good: one more ping, then the server closes.
        #expect(try await ws.nextJSON(timeout: .seconds(5)) == ["msg": "ping", "id": "3"])
        do {
            _ = try await ws.nextJSON(timeout: .seconds(5))
            Issue.record("the connection stayed open")
        } catch ClientError.closedByServer(let code, let reason) {
            #expect(code == 1001 && reason == "no answer to the heartbeat")
        } catch {
            Issue.record("expected the server to close the connection, got \(error)")
        }
        // Heartbeats off: nothing arrives unasked.
        await daemon.stop()
        let quiet = try await TestDaemon.start { $0.ddpHeartbeat = .zero }
        let silent = try await connect(quiet)
        try await handshake(silent)
        // Silence longer than the heartbeat of the first daemon (a load only lengthens it), then a marker:
        // its answer is the first frame, so no ping came before it.
        try await Task.sleep(for: .milliseconds(1_500))
        try await silent.send(#"{"msg":"method","id":"marker","method":"core.ping"}"#)
        #expect(try await silent.nextJSON() == ["id": "marker", "msg": "result", "result": "pong"])
        await silent.close()
        await quiet.stop()
    }

    @Test func methodsPingAndErrors() async throws {
        let daemon = try await TestDaemon.start()
        let ws = try await connect(daemon)
        try await handshake(ws)
        try await ws.send(#"{"msg":"method","id":"a1","method":"core.ping","params":[]}"#)
        #expect(try await ws.nextJSON() == ["id": "a1", "msg": "result", "result": "pong"])
        try await ws.send(#"{"msg":"ping","id":"p"}"#)
        #expect(try await ws.nextJSON() == ["msg": "pong", "id": "p"])
        try await ws.send(#"{"msg":"ping"}"#)
        #expect(try await ws.nextJSON() == ["msg": "pong"])
        // Not logged in.
        try await ws.send(#"{"msg":"method","id":"a2","method":"user.query","params":[]}"#)
        let refused = try await ws.nextJSON()
        #expect(refused["id"] == "a2" && refused["msg"] == "result")
        #expect(refused["error"]?["error"] == 207 && refused["error"]?["errname"] == "ENOTAUTHENTICATED")
        #expect(refused["error"]?["type"] == .null)
        // Unknown method.
        try await ws.send(#"{"msg":"method","id":"a3","method":"nope.nothing","params":[]}"#)
        #expect(try await ws.nextJSON()["error"]?["error"] == 201)
        // Malformed frames keep the connection.
        try await ws.send(#"{"msg":"method","id":"a4","method":"core.ping","params":{}}"#)
        #expect(try await ws.nextJSON()["error"]?["error"] == 22)
        try await ws.send("not json")
        #expect(try await ws.nextJSON()["msg"] == "error")
        try await ws.send(#"{"msg":"method","id":7,"method":"core.ping"}"#)
        #expect(try await ws.nextJSON() == ["id": 7, "msg": "result", "result": "pong"])
        await ws.close()
        await daemon.stop()
    }

    @Test func validationErrorsAreEAGAINWithTypeValidation() async throws {
        let daemon = try await TestDaemon.start()
        let ws = try await connect(daemon, unix: true)
        try await handshake(ws)
        try await ws.send(#"{"msg":"method","id":"v","method":"user.create","params":[{"username":"9bad","bogus":1}]}"#)
        let reply = try await ws.nextJSON()
        let error = try #require(reply["error"])
        #expect(error["error"] == 11 && error["errname"] == "EAGAIN" && error["type"] == "VALIDATION")
        let attributes = Set((error["extra"]?.arrayValue ?? []).compactMap { $0[0]?.stringValue })
        #expect(attributes.contains("user_create.username") && attributes.contains("user_create.bogus"))
        await ws.close()
        await daemon.stop()
    }

    @Test func subscriptionsReadyNosubAndAddedBeforeChanged() async throws {
        let daemon = try await TestDaemon.start()
        let ws = try await connect(daemon, unix: true)
        try await handshake(ws)
        try await ws.send(#"{"msg":"sub","id":"S1","name":"core.get_jobs","params":[]}"#)
        #expect(try await ws.nextJSON() == ["msg": "ready", "subs": ["S1"]])
        try await ws.send(#"{"msg":"sub","id":"S2","name":"no.such.event"}"#)
        let nosub = try await ws.nextJSON()
        #expect(nosub["msg"] == "nosub" && nosub["id"] == "S2" && nosub["collection"] == "no.such.event")
        #expect(nosub["error"]?["error"] == 2)
        // A job: its id comes back at once; progress arrives as added, then changed, ending SUCCESS.
        try await ws.send(#"{"msg":"method","id":"j","method":"test.job","params":[3,5]}"#)
        var jobID: JSON?
        var kinds: [String] = []
        var finalState: JSON?
        while finalState != "SUCCESS" {
            let frame = try await ws.nextJSON()
            if frame["msg"] == "result" { jobID = frame["result"]; continue }
            #expect(frame["collection"] == "core.get_jobs")
            kinds.append(frame["msg"]?.stringValue ?? "?")
            finalState = frame["fields"]?["state"]
        }
        #expect(jobID?.intValue != nil)
        #expect(kinds.first == "added")
        #expect(kinds.dropFirst().allSatisfy { $0 == "changed" } && kinds.count >= 3)
        // unsub is confirmed with nosub and no error; no more events after it.
        try await ws.send(#"{"msg":"unsub","id":"S1"}"#)
        let confirmed = try await ws.nextJSON()
        #expect(confirmed["msg"] == "nosub" && confirmed["id"] == "S1" && confirmed["error"] == .null)
        try await ws.send(#"{"msg":"method","id":"j2","method":"test.job","params":[1,1]}"#)
        #expect(try await ws.nextJSON()["msg"] == "result")
        try await ws.send(#"{"msg":"ping","id":"after"}"#)
        #expect(try await ws.nextJSON() == ["msg": "pong", "id": "after"], "no event after unsub")
        await ws.close()
        await daemon.stop()
    }

    @Test func aChangedForAnUnseenDocumentArrivesAsAdded() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        let user = try await root.call("user.create", [["username": "existing"]])
        let ws = try await connect(daemon, unix: true)
        try await handshake(ws)
        try await ws.send(#"{"msg":"sub","id":"U","name":"user.query"}"#)
        #expect(try await ws.nextJSON()["msg"] == "ready")
        // The user existed before the sub: its first news here is an update, which must arrive as `added`.
        _ = try await root.call("user.update", [user["id"] ?? .null, ["full_name": "First"]])
        let first = try await ws.nextJSON()
        #expect(first["msg"] == "added" && first["collection"] == "user.query" && first["id"] == user["id"])
        _ = try await root.call("user.update", [user["id"] ?? .null, ["full_name": "Second"]])
        #expect(try await ws.nextJSON()["msg"] == "changed")
        _ = try await root.call("user.delete", [user["id"] ?? .null])
        #expect(try await ws.nextJSON()["msg"] == "removed")
        await root.close()
        await ws.close()
        await daemon.stop()
    }
}

/// The DDP codec on plain values: every message kind and the wrong types in each field.
@Suite struct DDPCodecTests {
    @Test(arguments: [
        (#"{"msg":"connect","version":"1","support":["1","pre2"]}"#, DDPInbound.connect(version: "1", support: ["1", "pre2"])),
        (#"{"msg":"method","id":"1","method":"a.b","params":[1]}"#, .method(id: "1", method: "a.b", params: [1])),
        (#"{"msg":"method","id":5,"method":"a.b"}"#, .method(id: 5, method: "a.b", params: [])),
        (#"{"msg":"ping","id":"x"}"#, .ping(id: "x")),
        (#"{"msg":"ping"}"#, .ping(id: nil)),
        (#"{"msg":"pong"}"#, .pong(id: nil)),
        (#"{"msg":"sub","id":"s","name":"e","params":[]}"#, .sub(id: "s", name: "e", params: [])),
        (#"{"msg":"unsub","id":"s"}"#, .unsub(id: "s")),
    ] as [(String, DDPInbound)])
    func decodes(frame: String, expected: DDPInbound) throws {
        #expect(DDPCodec.decode(try JSON.parse(frame)) == expected)
    }

    @Test(arguments: [
        #"[]"#, #"{"msg":1}"#, #"{"id":"1"}"#, #"{"msg":"method","method":"a"}"#, #"{"msg":"method","id":[1],"method":"a"}"#,
        #"{"msg":"method","id":"1","method":""}"#, #"{"msg":"method","id":"1","method":7}"#, #"{"msg":"method","id":"1","method":"a","params":"x"}"#,
        #"{"msg":"sub","id":"s"}"#, #"{"msg":"sub","id":{},"name":"e"}"#, #"{"msg":"unsub"}"#, #"{"msg":"launch"}"#,
    ])
    func refuses(frame: String) throws {
        guard case .invalid(_, let reason) = DDPCodec.decode(try JSON.parse(frame)) else {
            Issue.record("\(frame) was accepted")
            return
        }
        #expect(!reason.isEmpty)
    }

    @Test func documentsTrackWhatTheClientHolds() {
        let documents = DDPDocuments()
        let changed = Event(name: "c", kind: .changed, id: 1, fields: [:])
        #expect(documents.kind(for: changed) == .added)
        #expect(documents.kind(for: changed) == .changed)
        #expect(documents.kind(for: Event(name: "c", kind: .removed, id: 1, fields: .null)) == .removed)
        #expect(documents.kind(for: Event(name: "c", kind: .removed, id: 1, fields: .null)) == nil, "removed twice")
        #expect(documents.kind(for: Event(name: "other", kind: .added, id: 1, fields: [:])) == .added, "ids are per collection")
    }
}
