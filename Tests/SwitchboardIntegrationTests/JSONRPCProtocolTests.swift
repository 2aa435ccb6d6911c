import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import SwitchboardClient
import SwitchboardCore

/// Every JSON-RPC shape of spec/protocols.md, byte for byte where it matters, over a real socket.
@Suite(.serialized) struct JSONRPCProtocolTests {
    func withConnection(_ body: (WebSocketConnection, TestDaemon) async throws -> Void) async throws {
        let daemon = try await TestDaemon.start()
        let connection = try await WebSocketConnection.connect(to: daemon.tcp)
        do {
            try await body(connection, daemon)
        } catch {
            await connection.close()
            await daemon.stop()
            throw error
        }
        await connection.close()
        await daemon.stop()
    }

    @Test func integerIdIsEchoedAsInteger() async throws {
        try await withConnection { ws, _ in
            try await ws.send(#"{"jsonrpc":"2.0","id":42,"method":"core.ping","params":[]}"#)
            let frames = ws.frames
            var iterator = frames.makeAsyncIterator()
            let text = try #require(try await iterator.next())
            #expect(text == #"{"jsonrpc":"2.0","id":42,"result":"pong"}"#)
        }
    }

    /// Replies of every WebSocket length encoding (7-bit, 16-bit, 64-bit), batched by the daemon's writer.
    @Test func repliesOfEveryFrameLengthArriveIntact() async throws {
        let daemon = try await TestDaemon.start()
        let client = try await daemon.client(as: "echo", roles: ["FULL_ADMIN"])
        let sizes = [0, 80, 125, 200, 65_450, 65_540, 300_000]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for size in sizes {
                group.addTask {
                    let text = String(repeating: "é", count: size / 2) + String(repeating: "z", count: size % 2)
                    let echoed = try await client.call("test.echo", [.string(text)])
                    #expect(echoed == .string(text), "size \(size)")
                }
            }
            try await group.waitForAll()
        }
        await client.close()
        await daemon.stop()
    }

    @Test func stringIdAndAbsentParams() async throws {
        try await withConnection { ws, _ in
            try await ws.send(#"{"jsonrpc":"2.0","id":"abc-1","method":"core.ping"}"#)
            let reply = try await ws.nextJSON()
            #expect(reply == ["jsonrpc": "2.0", "id": "abc-1", "result": "pong"])
            if case .string = reply["id"] {} else { Issue.record("id lost its type") }
        }
    }

    @Test func notificationGetsNoReply() async throws {
        try await withConnection { ws, _ in
            try await ws.send(#"{"jsonrpc":"2.0","method":"core.ping","params":[]}"#)
            try await ws.send(#"{"jsonrpc":"2.0","id":7,"method":"core.ping"}"#)
            let reply = try await ws.nextJSON()
            #expect(reply["id"] == 7)
        }
    }

    @Test func batchIsRefused() async throws {
        try await withConnection { ws, _ in
            try await ws.send(#"[{"jsonrpc":"2.0","id":1,"method":"core.ping"}]"#)
            let reply = try await ws.nextJSON()
            #expect(reply["error"]?["code"] == -32700)
            #expect(reply["id"] == .null)
            #expect(reply["jsonrpc"] == "2.0")
        }
    }

    @Test func parseError() async throws {
        try await withConnection { ws, _ in
            try await ws.send(#"{"jsonrpc":"2.0","id":1,"method":"#)
            let reply = try await ws.nextJSON()
            #expect(reply["error"]?["code"] == -32700)
            #expect(reply["error"]?["message"] == "Parse error")
            #expect(reply["id"] == .null)
            // The connection stays usable.
            try await ws.send(#"{"jsonrpc":"2.0","id":2,"method":"core.ping"}"#)
            #expect(try await ws.nextJSON()["result"] == "pong")
        }
    }

    @Test(arguments: [
        #"{"id":1,"method":"core.ping"}"#,
        #"{"jsonrpc":"1.0","id":1,"method":"core.ping"}"#,
        #"{"jsonrpc":"2.0","id":1}"#,
        #"{"jsonrpc":"2.0","id":1,"method":5}"#,
        #"{"jsonrpc":"2.0","id":1.5,"method":"core.ping"}"#,
        #"{"jsonrpc":"2.0","id":[1],"method":"core.ping"}"#,
        #""just a string""#,
        "42",
    ])
    func invalidRequest(frame: String) async throws {
        try await withConnection { ws, _ in
            try await ws.send(frame)
            let reply = try await ws.nextJSON()
            #expect(reply["error"]?["code"] == -32600)
            #expect(reply["error"]?["message"] == "Invalid Request")
            #expect(reply["error"]?["data"]?["reason"]?.stringValue?.isEmpty == false)
        }
    }

    @Test func unknownMethod() async throws {
        try await withConnection { ws, _ in
            try await ws.send(#"{"jsonrpc":"2.0","id":3,"method":"no.such_method","params":[]}"#)
            let reply = try await ws.nextJSON()
            #expect(reply["id"] == 3)
            #expect(reply["error"]?["code"] == -32601)
            #expect(reply["error"]?["message"] == "Method does not exist")
        }
    }

    @Test func paramsMustBeAnArray() async throws {
        try await withConnection { ws, _ in
            try await ws.send(#"{"jsonrpc":"2.0","id":4,"method":"core.ping","params":{"a":1}}"#)
            let reply = try await ws.nextJSON()
            #expect(reply["error"]?["code"] == -32602)
            #expect(reply["error"]?["data"]?["error"] == 22)
        }
    }

    @Test func notAuthenticated() async throws {
        try await withConnection { ws, _ in
            try await ws.send(#"{"jsonrpc":"2.0","id":5,"method":"system.info","params":[]}"#)
            let reply = try await ws.nextJSON()
            let error = try #require(reply["error"])
            #expect(error["code"] == -32001)
            #expect(error["message"] == "Method call error")
            #expect(error["data"] == ["error": 207, "errname": "ENOTAUTHENTICATED", "reason": "Not authenticated", "trace": nil, "extra": nil])
        }
    }

    @Test func validationErrorCarriesTriples() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        let reply = try await root.request("user.create", [["username": "9bad", "roles": "FULL_ADMIN", "bogus": 1]])
        let error = try #require(reply["error"])
        #expect(error["code"] == -32602)
        #expect(error["message"] == "Invalid params")
        #expect(error["data"]?["error"] == 22)
        #expect(error["data"]?["errname"] == "EINVAL")
        let extra = try #require(error["data"]?["extra"]?.arrayValue)
        let attributes = Set(extra.compactMap { $0[0]?.stringValue })
        #expect(attributes == ["user_create.username", "user_create.roles", "user_create.bogus"])
        for triple in extra {
            #expect(triple.arrayValue?.count == 3)
            #expect(triple[1]?.stringValue?.isEmpty == false)
            #expect(triple[2] == 22)
        }
        // Missing required argument and too many arguments.
        let missing = try await root.request("test.echo", [])
        #expect(missing["error"]?["code"] == -32602)
        #expect(missing["error"]?["data"]?["extra"] == [["value", "Field required", 22]])
        let tooMany = try await root.request("core.ping", [1, 2])
        #expect(tooMany["error"]?["code"] == -32602)
        #expect(tooMany["error"]?["data"]?["reason"] == "Too many arguments (expected 0, found 2)")
        // Nested paths name the element.
        let nested = try await root.request("user.create", [["username": "ok", "roles": ["FULL_ADMIN", 5]]])
        #expect(nested["error"]?["data"]?["extra"]?[0]?[0] == "user_create.roles.1")
        await root.close()
        await daemon.stop()
    }

    @Test func setOptionsWithoutAuthentication() async throws {
        try await withConnection { ws, _ in
            try await ws.send(#"{"jsonrpc":"2.0","id":1,"method":"core.set_options","params":[{"legacy_jobs":false}]}"#)
            let reply = try await ws.nextJSON()
            #expect(reply["result"] == ["legacy_jobs": false, "private_methods": false, "py_exceptions": false])
            try await ws.send(#"{"jsonrpc":"2.0","id":2,"method":"core.set_options","params":[{"nonsense":true}]}"#)
            #expect(try await ws.nextJSON()["error"]?["code"] == -32602)
        }
    }

    @Test func pyExceptionsOption() async throws {
        try await withConnection { ws, _ in
            try await ws.send(#"{"jsonrpc":"2.0","id":1,"method":"core.set_options","params":[{"py_exceptions":true}]}"#)
            _ = try await ws.nextJSON()
            try await ws.send(#"{"jsonrpc":"2.0","id":2,"method":"system.info"}"#)
            #expect(try await ws.nextJSON()["error"]?["data"]?["py_exception"] == "CallError")
        }
    }

    @Test func badInputNeverKillsTheConnectionOrDaemon() async throws {
        try await withConnection { ws, daemon in
            let garbage = [
                // Deep but under the 8 KiB an unauthenticated peer may send (larger closes the connection).
                String(repeating: "[", count: 8_000),
                String(repeating: "{\"a\":", count: 1_500),
                "\u{0}\u{1}\u{2}", "nul", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"core.ping\",\"params\":[\"\\ud800\"]}",
                "{\"jsonrpc\":\"2.0\",\"id\":9223372036854775808,\"method\":\"core.ping\"}",
                "", " ", "{}", "[]", "null",
            ]
            for frame in garbage {
                try await ws.send(frame)
                let reply = try await ws.nextJSON()
                #expect(reply["error"] != nil, "expected an error for \(frame.prefix(40))")
            }
            try await ws.sendBinary([0xFF, 0xFE, 0x00, 0x80])
            #expect(try await ws.nextJSON()["error"]?["code"] == -32700)
            try await ws.send(#"{"jsonrpc":"2.0","id":99,"method":"core.ping"}"#)
            #expect(try await ws.nextJSON()["result"] == "pong")
            // Another client is served throughout.
            let other = try await RPCClient.connect(to: daemon.tcp)
            #expect(try await other.call("core.ping") == "pong")
            await other.close()
        }
    }

    /// `dispatcher.max-running-calls` (10) run, `dispatcher.max-queued-calls` (20) wait, the rest are refused at
    /// once: with every call held on a gate, exactly ten refusals arrive before anything else can.
    @Test func concurrencyLimitRefusesBeyondRunningAndQueued() async throws {
        let daemon = try await TestDaemon.start()
        let client = try await daemon.client(as: "reader", roles: ["READONLY_ADMIN"])
        let root = try await daemon.rootClient()
        let gate: JSON = "concurrency"
        let (refused, succeeded, refusedFirst) = try await withThrowingTaskGroup(of: Result<JSON, any Error>.self) { group in
            for _ in 0..<40 {
                group.addTask {
                    do { return .success(try await client.call("test.hold", [gate])) } catch { return .failure(error) }
                }
            }
            var refused = 0, succeeded = 0, refusedFirst = true
            while let result = try await group.next() {
                switch result {
                case .success(let value):
                    #expect(value == true)
                    if refused < 10 { refusedFirst = false }
                    succeeded += 1
                case .failure(let error):
                    if case ClientError.call(let code, _, let data) = error, code == -32000, data["error"] == 109,
                       data["reason"] == "Too many concurrent calls" {
                        refused += 1
                    } else {
                        Issue.record("unexpected failure \(error)")
                    }
                }
                if refused == 10 && succeeded == 0 {
                    // The ten running calls hold the gate; the twenty queued have not started.
                    try await eventually("ten calls wait on the gate") { try await root.call("test.waiting", [gate]) == 10 }
                    _ = try await root.call("test.open", [gate])
                }
            }
            return (refused, succeeded, refusedFirst)
        }
        #expect(refused == 10)
        #expect(succeeded == 30)
        #expect(refusedFirst, "a call ended before the refusals while the gate was closed")
        // After the burst the connection works normally.
        #expect(try await client.call("core.ping") == "pong")
        for c in [client, root] { await c.close() }
        await daemon.stop()
    }

    @Test func healthAnswersOnceReady() async throws {
        let daemon = try await TestDaemon.start()
        let answer = try await HTTPExchange.send("GET", "http://127.0.0.1:\(daemon.port)/health")
        #expect(answer.status == 200)
        #expect(answer.json?["status"] == "ready")
        await daemon.stop()
    }
}
