import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore

/// 10,000 frames of garbage on one connection of each WebSocket dialect: every one is answered or ignored,
/// the connection keeps working, other clients keep being served, memory stays flat and nothing is stored.
@Suite(.serialized) struct GarbageFrameTests {
    /// Text payloads no well-behaved client sends: broken JSON, wrong types in every field, deep nesting,
    /// unauthenticated writes, batches, notifications.
    static let texts: [String] = [
        "", " ", "not json", "{", "}", "[", "nul", "tru", "1e999999", "-", "\"unterminated", "{\"a\":}", "[1,]", "\u{0}\u{1}\u{2}",
        #"{"jsonrpc":"2.0"}"#, #"{"jsonrpc":"2.0","id":1,"method":5}"#, #"{"jsonrpc":"2.0","id":[1],"method":"core.ping"}"#,
        #"{"jsonrpc":"1.0","id":1,"method":"core.ping"}"#, #"[{"jsonrpc":"2.0","id":1,"method":"core.ping"}]"#,
        #"{"jsonrpc":"2.0","id":2,"method":"user.create","params":"x"}"#,
        #"{"jsonrpc":"2.0","id":3,"method":"user.create","params":[{"username":"evil","roles":["FULL_ADMIN"]}]}"#,
        #"{"jsonrpc":"2.0","id":4,"method":"auth.login","params":[1,2,3,4,5]}"#,
        #"{"jsonrpc":"2.0","id":5,"method":"auth.login","params":[{"a":1},[]]}"#,
        #"{"jsonrpc":"2.0","id":6,"method":"\ud800"}"#, #"{"jsonrpc":"2.0","id":7.5,"method":"core.ping","params":{}}"#,
        #"{"jsonrpc":"2.0","id":8,"method":"user.delete","params":[1]}"#, #"{"jsonrpc":"2.0","method":"user.delete","params":[1]}"#,
        #"{"jsonrpc":"2.0","id":9,"method":"core.subscribe","params":["*"]}"#, #"{"msg":"method","id":"1","method":"user.delete","params":[1]}"#,
        #"{"msg":"sub","id":"s","name":"user.query"}"#, #"{"msg":"connect","version":"9"}"#, #"{"msg":7}"#,
        #"{"namespace":"rpc","name":"call","id":"e","args":{"method":"user.delete","args":[1]}}"#,
        #"{"namespace":"rpc","name":"call","id":[],"args":"x"}"#, #"{"namespace":5}"#, #"{"namespace":"events","name":"subscribe","id":"x","args":9}"#,
        String(repeating: "[", count: 4000), String(repeating: "{\"a\":", count: 1000), "{\"k\":\"" + String(repeating: "\\u0000", count: 500) + "\"}",
    ]

    /// Deterministic pseudo-random bytes for binary frames.
    static func noise(_ seed: Int, count: Int) -> [UInt8] {
        var state = UInt64(seed) &* 6364136223846793005 &+ 1442695040888963407
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
    }

    /// Sends `count` garbage frames on one connection of `path`, reading replies as they come, then one
    /// real request that must be answered. Returns the replies read.
    static func flood(port: Int, path: String, count: Int, handshake: String?, probe: String, expect: (JSON) -> Bool) throws -> Int {
        let socket = try RawWebSocket(port: port, path: path, receiveBuffer: nil)
        var replies = 0
        if let handshake {
            try socket.sendText(handshake)
            let deadline = ContinuousClock.now + .seconds(10)
            while replies == 0 && ContinuousClock.now < deadline { replies += socket.receiveAvailable().frames.count }
            replies = 0
        }
        for n in 0..<count {
            if n % 7 == 6 {
                try socket.sendFrame(opcode: 0x2, noise(n, count: 1 + n % 300))
            } else {
                try socket.sendText(texts[n % texts.count])
            }
            if n % 50 == 0 {
                let (frames, closed) = socket.receiveAvailable()
                #expect(!closed, "\(path): closed after \(n) garbage frames")
                if closed { return replies }
                replies += frames.count
            }
        }
        try socket.sendText(probe)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let (frames, closed) = socket.receiveAvailable()
            for frame in frames where frame.opcode == 0x1 {
                replies += 1
                if let json = try? JSON.parse(bytes: frame.payload), expect(json) { return replies }
            }
            if closed { break }
            usleep(1000)
        }
        Issue.record("\(path): the request after the garbage was not answered")
        return replies
    }

    @Test func tenThousandGarbageFramesPerDialect() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        _ = try await root.call("user.create", [["username": "alice", "password": "pw", "roles": ["FULL_ADMIN"]]])
        let before = try await DialectSweepTests.snapshot(root)
        // Another client is served throughout.
        let bystander = try await RPCClient.connect(to: daemon.tcp)
        let served = Task {
            var pongs = 0
            while !Task.isCancelled {
                if (try? await bystander.call("core.ping")) == "pong" { pongs += 1 }
                try? await Task.sleep(for: .milliseconds(20))
            }
            return pongs
        }
        let port = daemon.port
        // Warm up, then measure: the same garbage again must not grow the process.
        _ = try Self.flood(port: port, path: "/api/current", count: 1_000, handshake: nil,
                           probe: #"{"jsonrpc":"2.0","id":"probe","method":"core.ping"}"#, expect: { $0["id"] == "probe" })
        let rssBefore = residentMemory()
        let jsonRPC = try Self.flood(port: port, path: "/api/current", count: 10_000, handshake: nil,
                                     probe: #"{"jsonrpc":"2.0","id":"probe","method":"core.ping"}"#,
                                     expect: { $0["id"] == "probe" && $0["result"] == "pong" })
        let ddp = try Self.flood(port: port, path: "/websocket", count: 10_000, handshake: #"{"msg":"connect","version":"1","support":["1"]}"#,
                                 probe: #"{"msg":"method","id":"probe","method":"core.ping","params":[]}"#,
                                 expect: { $0["id"] == "probe" && $0["result"] == "pong" })
        let envelope = try Self.flood(port: port, path: "/socket", count: 10_000, handshake: nil,
                                      probe: #"{"namespace":"rpc","name":"call","id":"probe","args":{"method":"core.ping","args":[]}}"#,
                                      expect: { $0["id"] == "probe" && $0["args"] == "pong" })
        let growth = residentMemory() - rssBefore
        print("garbage frames: answered JSON-RPC \(jsonRPC), DDP \(ddp), envelope \(envelope) of 10,000 each; RSS growth \(growth >> 10) KiB")
        served.cancel()
        let pongs = await served.value
        // Most garbage is answered with an error frame (notifications and DDP's unknown messages are not).
        #expect(jsonRPC > 8_000, "JSON-RPC answered \(jsonRPC) of 10,000")
        #expect(ddp > 5_000, "DDP answered \(ddp) of 10,000")
        #expect(envelope > 8_000, "envelope answered \(envelope) of 10,000")
        #expect(pongs > 5, "the other client was served \(pongs) times")
        #expect(growth < 64 << 20, "resident memory grew by \(growth >> 20) MiB over 30,000 garbage frames")
        #expect(try await DialectSweepTests.snapshot(root) == before, "garbage changed the datastore")
        #expect(try await bystander.call("core.ping") == "pong")
        await bystander.close()
        await root.close()
        await daemon.stop()
    }

    /// A frame RFC 6455 forbids, how it is sent, and the close code the daemon answers it with.
    struct Violation: Sendable, CustomTestStringConvertible {
        let name: String
        let send: @Sendable (RawWebSocket) throws -> Void
        let code: Int
        var testDescription: String { name }
    }

    static let violations: [Violation] = [
        Violation(name: "invalid UTF-8 in a text frame", send: { try $0.sendFrame(opcode: 0x1, [0x7B, 0xFF, 0xFE, 0x7D]) }, code: 1007),
        Violation(name: "invalid UTF-8 across fragments", send: {
            try $0.sendFrame(opcode: 0x1, [0x7B, 0xE2], final: false)
            try $0.sendFrame(opcode: 0x0, [0x28, 0x7D])
        }, code: 1007),
        Violation(name: "a reserved data opcode", send: { try $0.sendFrame(opcode: 0x3, [1, 2, 3]) }, code: 1002),
        Violation(name: "a reserved control opcode", send: { try $0.sendFrame(opcode: 0xB, []) }, code: 1002),
        Violation(name: "RSV1 without an extension", send: { try $0.sendFrame(opcode: 0x1, Array("{}".utf8), reserved: 0b100) }, code: 1002),
        Violation(name: "a control frame over 125 bytes", send: { try $0.sendFrame(opcode: 0x9, [UInt8](repeating: 0x61, count: 126)) }, code: 1002),
        Violation(name: "a fragmented control frame", send: { try $0.sendFrame(opcode: 0x9, [1], final: false) }, code: 1002),
        Violation(name: "a continuation with nothing to continue", send: { try $0.sendFrame(opcode: 0x0, Array("{}".utf8)) }, code: 1002),
        Violation(name: "a new message inside a fragmented one", send: {
            try $0.sendFrame(opcode: 0x1, Array("{".utf8), final: false)
            try $0.sendFrame(opcode: 0x1, Array("}".utf8))
        }, code: 1002),
        Violation(name: "a close frame with a 1-byte body", send: { try $0.sendFrame(opcode: 0x8, [0x03]) }, code: 1002),
        Violation(name: "a close frame with a code no endpoint may send (1005)", send: { try $0.sendFrame(opcode: 0x8, [0x03, 0xED]) }, code: 1002),
        // The connection fails (RFC 6455 section 8.1); the close-frame check answers it as a protocol error.
        Violation(name: "a close frame whose reason is not UTF-8", send: { try $0.sendFrame(opcode: 0x8, [0x03, 0xE8, 0xFF]) }, code: 1002),
    ]

    /// Frames the WebSocket protocol itself forbids close that connection only, with the code RFC 6455 gives.
    @Test(arguments: violations) func protocolViolationsCloseOnlyTheirConnection(violation: Violation) async throws {
        let daemon = try await TestDaemon.start()
        let bystander = try await RPCClient.connect(to: daemon.tcp)
        for path in ["/api/current", "/websocket", "/socket"] {
            let peer = try RawWebSocket(port: daemon.port, path: path, receiveBuffer: nil)
            try violation.send(peer)
            let read = try await Binary.onThread { peer.readFrames(timeout: .seconds(10)) }
            let close = MessageSizeLimitTests.closeFrame(read.frames)
            #expect(close?.code == violation.code && read.closedByPeer, "\(path): \(violation.name): \(String(describing: close))")
            #expect(try await bystander.call("core.ping") == "pong")
        }
        await bystander.close()
        await daemon.stop()
    }
}
