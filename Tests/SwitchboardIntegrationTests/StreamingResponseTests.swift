import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore
@testable import SwitchboardStore

/// FreeNAS 10's streaming responses over the envelope dialect (issue 22, item 2): `rpc/fragment`,
/// `rpc/continue`, `rpc/end`, `rpc/abort`.
@Suite(.serialized) struct StreamingResponseTests {
    static func send(_ ws: WebSocketConnection, _ name: String, _ id: String, _ args: JSON) async throws -> JSON {
        let message: JSON = ["namespace": "rpc", "name": .string(name), "id": .string(id), "args": args]
        try await ws.send(message.encodedString())
        return try await ws.nextJSON(timeout: .seconds(30))
    }

    /// Reads a streamed answer to its end: its rows, and the seqno numbers of its fragments and end.
    static func drain(_ ws: WebSocketConnection, _ first: JSON, id: String, each: (Int) -> Void = { _ in }) async throws -> (rows: Int, seqnos: [Int64]) {
        var message = first
        var rows = 0
        var seqnos: [Int64] = []
        while message["name"] == "fragment" {
            let seqno = try #require(message["args"]?["seqno"]?.intValue)
            seqnos.append(seqno)
            rows += message["args"]?["fragment"]?.arrayValue?.count ?? 0
            each(seqnos.count)
            message = try await send(ws, "continue", id, .int(seqno + 1))
        }
        #expect(message["name"] == "end" && message["id"] == .string(id), "\(message)")
        seqnos.append(message["args"]?.intValue ?? -1)
        return (rows, seqnos)
    }

    @Test func aStreamingClientGetsFragmentsOthersTheWholeAnswer() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        for n in 0..<1_234 { _ = try await root.call("user.create", [["username": .string("u\(n)")]]) }
        await (try daemon.client(as: "admin", roles: [Role.fullAdmin])).close()
        var target = daemon.tcp
        target.path = "/socket"
        let ws = try await WebSocketConnection.connect(to: target)
        #expect(try await Self.send(ws, "auth", "a", ["username": "admin", "password": "pa55word"])["name"] == "response")
        let call: JSON = ["method": "user.query", "args": [[["username", "^", "u"]]]]
        // Before the feature: one response with every row.
        let whole = try await Self.send(ws, "call", "w", call)
        #expect(whole["name"] == "response" && whole["args"]?.arrayValue?.count == 1_234)
        _ = try await Self.send(ws, "call", "f", ["method": "management.enable_features", "args": [["streaming_responses"]]])

        let first = try await Self.send(ws, "call", "q", call)
        #expect(first["name"] == "fragment" && first["args"]?["seqno"] == 1 && first["args"]?["fragment"]?.arrayValue?.count == 500, "\(first)")
        #expect(first["args"]?["fragment"]?[0]?["username"] == "u0")
        let drained = try await Self.drain(ws, first, id: "q")
        #expect(drained.rows == 1_234 && drained.seqnos == [1, 2, 3, 4])

        // An answer that is not a list comes whole; so does one of a method that does not stream.
        let counted = try await Self.send(ws, "call", "c", ["method": "user.query", "args": [[], ["count": true]]])
        #expect(counted == ["namespace": "rpc", "name": "response", "id": "c", "args": 1_235])
        #expect(try await Self.send(ws, "call", "p", ["method": "core.ping", "args": []])["args"] == "pong")
        // An order other than by id is computed, then handed out in fragments all the same.
        let ordered = try await Self.send(ws, "call", "o", ["method": "user.query", "args": [[], ["order_by": ["-username"]]]])
        #expect(ordered["name"] == "fragment" && ordered["args"]?["fragment"]?[0]?["username"] == "u999", "\(ordered)")
        #expect(try await Self.drain(ws, ordered, id: "o").rows == 1_235)
        // An empty answer is an end at once.
        #expect(try await Self.send(ws, "call", "e", ["method": "user.query", "args": [[["username", "=", "nobody"]]]])
                == ["namespace": "rpc", "name": "end", "id": "e", "args": 1])
        // core.get_jobs and task.query stream too.
        _ = try await root.call("core.noop_job")
        let jobs = try await Self.send(ws, "call", "j", ["method": "core.get_jobs", "args": []])
        #expect(jobs["name"] == "fragment" && jobs["args"]?["fragment"]?.arrayValue?.isEmpty == false, "\(jobs)")
        _ = try await Self.drain(ws, jobs, id: "j")
        let tasks = try await Self.send(ws, "call", "t", ["method": "task.query", "args": []])
        #expect(tasks["name"] == "fragment" && tasks["args"]?["fragment"]?[0]?["name"] == "core.noop_job", "\(tasks)")
        _ = try await Self.drain(ws, tasks, id: "t")

        // Abort drops the rest: continuing it then, or a stream never opened, is ENOENT `Invalid call`.
        #expect(try await Self.send(ws, "call", "x", call)["name"] == "fragment")
        try await ws.send(#"{"namespace":"rpc","name":"abort","id":"x","args":null}"#)
        let after = try await Self.send(ws, "continue", "x", 2)
        #expect(after == ["namespace": "rpc", "name": "error", "id": "x", "args": ["code": 2, "message": "Invalid call"]], "\(after)")
        #expect(try await Self.send(ws, "abort", "never", .null)["args"]?["code"] == 2)
        await ws.close()
        await root.close()
        await daemon.stop()
    }

    /// At most 64 unfinished streams per connection; finishing one makes room.
    @Test func unfinishedStreamsAreBounded() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        for n in 0..<2 { _ = try await root.call("user.create", [["username": .string("s\(n)")]]) }
        await root.close()
        var target = daemon.unix
        target.path = "/socket"
        let ws = try await WebSocketConnection.connect(to: target)
        _ = try await Self.send(ws, "call", "f", ["method": "management.enable_features", "args": [["streaming_responses"]]])
        let call: JSON = ["method": "user.query", "args": [[], ["limit": 1]]]
        for n in 0..<64 { #expect(try await Self.send(ws, "call", "s\(n)", call)["name"] == "fragment") }
        let refused = try await Self.send(ws, "call", "one-more", call)
        #expect(refused["name"] == "error" && refused["args"]?["code"] == .int(Int64(Errno.EBUSY)), "\(refused)")
        #expect(try await Self.send(ws, "continue", "s0", 2)["name"] == "end")
        #expect(try await Self.send(ws, "call", "one-more", call)["name"] == "fragment")
        await ws.close()
        await daemon.stop()
    }

    /// A million rows streamed from the real binary: its resident memory grows by less than 20 MiB.
    @Test func aMillionRowsStreamInBoundedMemory() async throws {
        let rows = 1_000_000
        var served = try await ServedBinary.start()
        let dir = served.stateDir
        #expect(try await served.stop() == 0)
        // The users table exists now; fill it the fast way, in one statement.
        let store = try SQLiteDatastore(path: dir + "/switchboard.db")
        try await store.write { db in
            try db.execute(sql: """
                WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < \(rows))
                INSERT INTO users (username, full_name, roles, locked, created) SELECT 'user' || x, 'User number ' || x, '[]', 0, 0 FROM n
                """)
        }
        try await store.close()
        served = try await ServedBinary.start(stateDir: dir)
        let ws = try await WebSocketConnection.connect(to: ConnectionTarget(.unix(path: served.socket), path: "/socket"))
        _ = try await Self.send(ws, "call", "f", ["method": "management.enable_features", "args": [["streaming_responses"]]])
        _ = try await Self.send(ws, "call", "warm", ["method": "user.query", "args": [[], ["limit": 10]]])
        let before = served.residentMemory
        var peak = before
        let first = try await Self.send(ws, "call", "all", ["method": "user.query", "args": []])
        let drained = try await Self.drain(ws, first, id: "all") { fragments in
            if fragments % 50 == 0 { peak = max(peak, served.residentMemory) }
        }
        peak = max(peak, served.residentMemory)
        #expect(drained.rows == rows)
        let growth = peak - before
        #expect(growth < 20 << 20, "RSS grew by \(growth >> 10) KiB streaming \(rows) rows")
        print("streamed \(rows) rows in \(drained.seqnos.count - 1) fragments; RSS \(before >> 10) KiB before, peak \(peak >> 10) KiB")
        await ws.close()
        #expect(try await served.stop() == 0)
    }
}
