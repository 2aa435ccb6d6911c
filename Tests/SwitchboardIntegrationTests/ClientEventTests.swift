import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore

/// Events that clients emit: FreeNAS 10's `events/event` and `events/event_burst` on the envelope dialect, and
/// `core.emit_event` on every dialect (issue 22, item 1).
@Suite(.serialized) struct ClientEventTests {
    /// A logged-in envelope connection, features negotiated as FreeNAS 10's client does.
    private func freenasClient(_ daemon: TestDaemon, as username: String) async throws -> WebSocketConnection {
        var target = daemon.tcp
        target.path = "/socket"
        let ws = try await WebSocketConnection.connect(to: target)
        try await ws.send(#"{"namespace":"rpc","name":"auth","id":"a","args":{"username":"\#(username)","password":"pa55word"}}"#)
        let login = try await ws.nextJSON()
        #expect(login["name"] == "response", "\(login)")
        try await ws.send(#"{"namespace":"rpc","name":"call","id":"f","args":{"method":"management.enable_features","args":[["streaming_responses"]]}}"#)
        #expect(try await ws.nextJSON()["id"] == "f")
        return ws
    }

    /// A ping whose answer is the next frame: proves that nothing was answered before it.
    private func expectNothingBefore(_ ws: WebSocketConnection, marker: String) async throws {
        try await ws.send(#"{"namespace":"rpc","name":"call","id":"\#(marker)","args":{"method":"core.ping","args":[]}}"#)
        let next = try await ws.nextJSON()
        #expect(next == ["namespace": "rpc", "name": "response", "id": .string(marker), "args": "pong"], "\(next)")
    }

    @Test func freenasClientsEmitEventsAndBursts() async throws {
        let daemon = try await TestDaemon.start()
        let reader = try await daemon.client(as: "reader", roles: [Role.readonlyAdmin])
        _ = try await reader.call("core.subscribe", ["test.reported"])
        await (try daemon.client(as: "admin", roles: [Role.fullAdmin])).close()
        let emitter = try await freenasClient(daemon, as: "admin")

        // One event: no answer, and the subscriber hears it with its args as fields and args.id as its id.
        try await emitter.send(#"{"namespace":"events","name":"event","id":"e1","args":{"name":"test.reported","args":{"level":"warn","id":7}}}"#)
        try await expectNothingBefore(emitter, marker: "m1")
        let one = try await reader.nextNotification()
        #expect(one["params"] == ["msg": "changed", "collection": "test.reported", "id": 7, "fields": ["level": "warn", "id": 7]], "\(one)")

        // A burst: each in order, no answer.
        try await emitter.send(#"{"namespace":"events","name":"event_burst","id":null,"args":{"events":[{"name":"test.reported","args":{"level":"info","id":1}},{"name":"test.reported","args":{"level":"info","id":2}}]}}"#)
        try await expectNothingBefore(emitter, marker: "m2")
        #expect(try await reader.nextNotification()["params"]?["id"] == 1)
        #expect(try await reader.nextNotification()["params"]?["id"] == 2)

        // Refusals are told with the frame's id, the attribute path placed in the request.
        func refusal(_ frame: String) async throws -> JSON {
            try await emitter.send(frame)
            let answer = try await emitter.nextJSON()
            #expect(answer["namespace"] == "rpc" && answer["name"] == "error" && answer["id"] == "bad", "\(answer)")
            return answer["args"] ?? nil
        }
        let invalid = try await refusal(#"{"namespace":"events","name":"event","id":"bad","args":{"name":"test.reported","args":{"level":"loud"}}}"#)
        #expect(invalid["code"] == 22 && invalid["extra"]?[0]?[0] == "args.args.level", "\(invalid)")
        let unknown = try await refusal(#"{"namespace":"events","name":"event","id":"bad","args":{"name":"no.such.event","args":{}}}"#)
        #expect(unknown["code"] == .int(Int64(Errno.ENOENT)), "\(unknown)")
        #expect(unknown["message"]?.stringValue?.contains("No event type named no.such.event") == true, "\(unknown)")
        let source = try await refusal(#"{"namespace":"events","name":"event","id":"bad","args":{"name":"test.counter","args":{}}}"#)
        #expect(source["code"] == .int(Int64(Errno.EPERM)), "\(source)")
        let nameless = try await refusal(#"{"namespace":"events","name":"event","id":"bad","args":{"args":{}}}"#)
        #expect(nameless["code"] == 22 && nameless["extra"]?[0]?[0] == "args.name", "\(nameless)")
        let shapeless = try await refusal(#"{"namespace":"events","name":"event_burst","id":"bad","args":{"event":[]}}"#)
        #expect(shapeless["code"] == 22 && shapeless["extra"]?[0]?[0] == "args.events", "\(shapeless)")
        // A malformed burst emits nothing; one whose second event is refused emits the first and names the second.
        let malformed = try await refusal(#"{"namespace":"events","name":"event_burst","id":"bad","args":{"events":[{"name":"test.reported","args":{"level":"info","id":3}},5]}}"#)
        #expect(malformed["extra"]?[0]?[0] == "args.events.1", "\(malformed)")
        let stopped = try await refusal(#"{"namespace":"events","name":"event_burst","id":"bad","args":{"events":[{"name":"test.reported","args":{"level":"info","id":4}},{"name":"test.reported","args":{"id":5}},{"name":"test.reported","args":{"level":"info","id":6}}]}}"#)
        #expect(stopped["extra"]?[0]?[0] == "args.events.1.args.level" && stopped["extra"]?[0]?[1] == "Field required", "\(stopped)")
        #expect(try await reader.nextNotification()["params"]?["id"] == 4)

        // Only FULL_ADMIN emits: a read-only administrator is refused and nothing reaches the subscriber.
        let readonly = try await freenasClient(daemon, as: "reader")
        try await readonly.send(#"{"namespace":"events","name":"event","id":"ro","args":{"name":"test.reported","args":{"level":"warn","id":8}}}"#)
        let denied = try await readonly.nextJSON()
        #expect(denied["name"] == "error" && denied["id"] == "ro" && denied["args"]?["code"] == .int(Int64(Errno.EACCES)), "\(denied)")
        // Nor before login.
        var target = daemon.tcp
        target.path = "/socket"
        let anonymous = try await WebSocketConnection.connect(to: target)
        try await anonymous.send(#"{"namespace":"events","name":"event","id":"anon","args":{"name":"test.reported","args":{"level":"warn","id":9}}}"#)
        let unauthenticated = try await anonymous.nextJSON()
        #expect(unauthenticated["name"] == "error" && unauthenticated["id"] == "anon", "\(unauthenticated)")

        // sysadm's REST emits too, and answers the envelope the WebSocket would have.
        let rest = try await HTTPExchange.send("PUT", "http://127.0.0.1:\(daemon.port)/events/event", headers: HTTPExchange.basic("admin", "pa55word"),
                                               body: #"{"name":"test.reported","args":{"level":"info","id":10}}"#)
        #expect(rest.status == 200 && rest.json == ["namespace": "events", "name": "response", "id": "", "args": nil], "\(rest.text)")
        #expect(try await reader.nextNotification()["params"]?["id"] == 10)

        // The marker: emitted last over JSON-RPC as `added`, it is the next thing the subscriber hears, so none of the
        // refused events (3, 5, 6, 8, 9) reached it.
        let root = try await daemon.rootClient()
        #expect(try await root.call(MethodName.emitEvent, ["test.reported", ["level": "info"], "added"]) == nil)
        let marker = try await reader.nextNotification()
        #expect(marker["params"] == ["msg": "added", "collection": "test.reported", "id": nil, "fields": ["level": "info"]], "\(marker)")
        // The plugin's server-side handler heard the same six (7, 1, 2, 4, 10 and the marker).
        #expect(try await root.call("test.reports_heard") == 6)

        await anonymous.close()
        await readonly.close()
        await emitter.close()
        await root.close()
        await reader.close()
        await daemon.stop()
    }
}
