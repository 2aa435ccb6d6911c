import Testing
@testable import SwitchboardCore
@testable import SwitchboardWire

/// DDP's handshake and sub/unsub state machine, driven with plain values: no socket, no daemon.
@Suite struct DDPSessionTests {
    static func frames(_ step: DDPSession.Step) -> [JSON] {
        guard case .send(let frames) = step else { return [] }
        return frames.compactMap { try? JSON.parse(bytes: $0) }
    }

    static func json(_ bytes: [UInt8]) -> JSON { (try? JSON.parse(bytes: bytes)) ?? .null }

    @Test func theHandshakeComesFirstAndOnlyOnce() {
        let session = DDPSession(sessionID: "s1")
        // Before `connect`, anything else (and a version it does not speak) gets `failed`.
        #expect(Self.frames(session.receive(.ping(id: "1"))) == [["msg": "failed", "version": "1"]])
        #expect(Self.frames(session.receive(.connect(version: "pre2", support: ["pre2"]))) == [["msg": "failed", "version": "1"]])
        #expect(!session.isConnected)
        #expect(Self.frames(session.receive(.connect(version: "1", support: ["1"]))) == [["msg": "connected", "session": "s1"]])
        #expect(session.isConnected)
        #expect(Self.frames(session.receive(.connect(version: "1", support: []))).first?["msg"] == "error")
        #expect(Self.frames(session.receive(.ping(id: "7"))) == [["msg": "pong", "id": "7"]])
        #expect(Self.frames(session.receive(.pong(id: nil))).isEmpty)
    }

    @Test func callsAndInvalidFramesBecomeStepsAndReplies() {
        let session = DDPSession(sessionID: "s1")
        _ = session.receive(.connect(version: "1", support: []))
        #expect(session.receive(.method(id: "m1", method: "core.ping", params: [])) == .call(id: "m1", method: "core.ping", params: []))
        #expect(Self.json(DDPSession.called(id: "m1", result: .success("pong"))) == ["msg": "result", "id": "m1", "result": "pong"])
        let failed = Self.json(DDPSession.called(id: "m2", result: .failure(CallError(Errno.EINVAL, "bad"))))
        #expect(failed["msg"] == "result" && failed["error"]?["reason"] == "bad")
        #expect(Self.frames(session.receive(.invalid(id: "x", reason: "no"))).first?["error"]?["reason"] == "no")
        #expect(Self.frames(session.receive(.invalid(id: nil, reason: "no"))).first?["msg"] == "error")
    }

    @Test func subscriptionsAreTrackedUntilUnsubscribed() {
        let documents = DDPDocuments()
        let session = DDPSession(sessionID: "s1", documents: documents)
        _ = session.receive(.connect(version: "1", support: []))
        #expect(session.receive(.sub(id: "a", name: "user.query", params: [])) == .subscribe(id: "a", name: "user.query"))
        #expect(Self.json(session.subscribed(id: "a", name: "user.query", result: .success("bus-1"))) == ["msg": "ready", "subs": ["a"]])
        #expect(documents.hasSub("a"))
        // The same id again is refused without a call.
        let again = Self.frames(session.receive(.sub(id: "a", name: "user.query", params: [])))
        #expect(again.first?["msg"] == "nosub" && again.first?["error"]?["error"] == 17)
        // A refused subscription answers nosub with the error and is not remembered.
        let refused = Self.json(session.subscribed(id: "b", name: "secret", result: .failure(.notAuthorized)))
        #expect(refused["msg"] == "nosub" && refused["id"] == "b")
        #expect(!documents.hasSub("b"))
        // unsub ends the bus subscription and confirms with an error-free nosub; an unknown id only confirms.
        guard case .unsubscribe(let bus, let frame) = session.receive(.unsub(id: "a")) else {
            Issue.record("unsub is not an unsubscribe step")
            return
        }
        #expect(bus == "bus-1" && Self.json(frame)["msg"] == "nosub" && (Self.json(frame)["error"] ?? .null) == .null)
        guard case .unsubscribe(let none, _) = session.receive(.unsub(id: "zz")) else { return }
        #expect(none == nil)
    }
}
