import Foundation
import SwitchboardClient
import SwitchboardCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A client that reads as fast as it can is never cut off by a job's burst of progress (issue 14): progress is
/// paced per job, and a connection that falls behind merges `changed` events of one document.
@Suite struct ProgressBurstTests {
    /// The two dialects a UI watches jobs with, and how each says what the tests need.
    enum Dialect: String, CaseIterable, CustomStringConvertible {
        case jsonrpc = "/api/current"
        case ddp = "/websocket"

        var description: String { rawValue }

        func handshake(_ socket: RawWebSocket) throws {
            if self == .ddp { try socket.sendText(#"{"msg":"connect","version":"1","support":["1"]}"#) }
        }

        func call(_ id: Int, _ method: String, _ params: JSON) -> String {
            switch self {
            case .jsonrpc: return JSON.object(["jsonrpc": "2.0", "id": .int(Int64(id)), "method": .string(method), "params": params]).encodedString()
            case .ddp: return JSON.object(["msg": "method", "id": .string(String(id)), "method": .string(method), "params": params]).encodedString()
            }
        }

        func subscribe(_ name: String) -> String {
            switch self {
            case .jsonrpc: return call(2, "core.subscribe", [.string(name)])
            case .ddp: return JSON.object(["msg": "sub", "id": "s1", "name": .string(name)]).encodedString()
            }
        }

        /// The result of call `id`, if `message` is its reply.
        func result(of id: Int, in message: JSON) -> JSON? {
            switch self {
            case .jsonrpc: return message["id"]?.intValue == Int64(id) ? (message["result"] ?? message["error"]) : nil
            case .ddp: return message["msg"] == "result" && message["id"]?.stringValue == String(id) ? (message["result"] ?? message["error"]) : nil
            }
        }

        /// A job event of `message`: the job id and its fields.
        func jobEvent(_ message: JSON) -> (id: Int64, fields: JSON)? {
            let event: JSON?
            switch self {
            case .jsonrpc: event = message["method"] == "collection_update" ? message["params"] : nil
            case .ddp: event = message["msg"] == "added" || message["msg"] == "changed" ? message : nil
            }
            guard let event, event["collection"] == .string(JobManager.eventName), let id = event["id"]?.intValue,
                  let fields = event["fields"] else { return nil }
            return (id, fields)
        }
    }

    /// What a fast reader saw until `done` held or the connection closed.
    struct Reading: Sendable {
        var messages: [JSON] = []
        var close: (code: Int, reason: String)?
    }

    /// Reads every frame as soon as it arrives, until `done` holds for the messages so far, the server closes,
    /// or 120 s pass (a liveness bound for a hung daemon, not a speed figure).
    static func readFast(_ socket: RawWebSocket, until done: ([JSON]) -> Bool) throws -> Reading {
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(socket.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var reading = Reading()
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let n = recv(socket.fd, &buffer, buffer.count, 0)
            if n == 0 { break }
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue }
                break
            }
            data += buffer[0..<n]
            let (frames, consumed) = RawWebSocket.frames(in: data)
            data.removeFirst(consumed)
            for frame in frames {
                if frame.opcode == 0x8 {
                    let code = frame.payload.count >= 2 ? Int(frame.payload[0]) << 8 | Int(frame.payload[1]) : 1005
                    reading.close = (code, String(decoding: frame.payload.dropFirst(2), as: UTF8.self))
                    return reading
                }
                guard frame.opcode == 0x1 else { continue }
                let message = try JSON.parse(String(decoding: frame.payload, as: UTF8.self))
                // A DDP client answers the server's heartbeat, as Meteor's do.
                if message["msg"] == "ping" {
                    try socket.sendText(#"{"msg":"pong"}"#)
                    continue
                }
                reading.messages.append(message)
            }
            if done(reading.messages) { return reading }
        }
        return reading
    }

    /// Logs in as `admin`, subscribes to job events, starts `method`, and reads as fast as it can until the job's
    /// final event. Returns the job's events in order and how long the job took as the client saw it.
    static func watchBurst(port: Int, _ dialect: Dialect, method: String, params: JSON) throws
        -> (events: [JSON], reading: Reading, elapsed: Duration)
    {
        let socket = try RawWebSocket(port: port, path: dialect.rawValue, receiveBuffer: nil)
        try dialect.handshake(socket)
        try socket.sendText(dialect.call(1, "auth.login", ["admin", "pa55word"]))
        let login = try readFast(socket) { $0.contains { dialect.result(of: 1, in: $0) != nil } }
        #expect(login.messages.compactMap { dialect.result(of: 1, in: $0) }.first == true)
        try socket.sendText(dialect.subscribe(JobManager.eventName))
        let subscribed = try readFast(socket) { messages in
            messages.contains { dialect == .ddp ? $0["msg"] == "ready" : dialect.result(of: 2, in: $0) != nil }
        }
        #expect(subscribed.close == nil)
        let start = ContinuousClock.now
        try socket.sendText(dialect.call(3, method, params))
        var jobID: Int64?
        let reading = try readFast(socket) { messages in
            if jobID == nil { jobID = messages.lazy.compactMap { dialect.result(of: 3, in: $0)?.intValue }.first }
            guard let jobID else { return false }
            return messages.contains { message in
                guard let event = dialect.jobEvent(message), event.id == jobID else { return false }
                return event.fields["state"].flatMap { JobState(rawValue: $0.stringValue ?? "")?.isFinished } == true
            }
        }
        let elapsed = ContinuousClock.now - start
        let events = reading.messages.compactMap { message -> JSON? in
            guard let event = dialect.jobEvent(message), event.id == jobID else { return nil }
            return event.fields
        }
        return (events, reading, elapsed)
    }

    static func expectCompleteHistory(_ events: [JSON], reading: Reading, steps: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(reading.close == nil, "the fast reader was cut off: \(String(describing: reading.close))", sourceLocation: sourceLocation)
        let states = events.compactMap { $0["state"]?.stringValue }
        // Every state change arrives, in order, each once; the final one last.
        var changes: [String] = []
        for state in states where changes.last != state { changes.append(state) }
        #expect(changes == ["WAITING", "RUNNING", "SUCCESS"] || changes == ["RUNNING", "SUCCESS"], "\(changes)", sourceLocation: sourceLocation)
        #expect(states.filter { $0 == "SUCCESS" }.count == 1, sourceLocation: sourceLocation)
        let final = events.last
        #expect(final?["progress"]?["percent"] == 100, sourceLocation: sourceLocation)
        #expect(final?["result"]?.arrayValue?.count == steps, sourceLocation: sourceLocation)
    }

    /// The daemon alone in its process (so that its RSS is its own), with an administrator to log in as.
    static func daemon(jobs: String = "{}", dispatcher: String = "{}") async throws -> ServedBinary {
        let daemon = try await ServedBinary.start(
            configuration: #"{"plugins": {"user": {"bcrypt_cost": 4}}, "jobs": \#(jobs), "dispatcher": \#(dispatcher)}"#)
        let root = try await RPCClient.connect(to: ConnectionTarget(.unix(path: daemon.socket)))
        _ = try await root.call("user.create", [["username": "admin", "password": "pa55word", "roles": ["FULL_ADMIN"]]])
        await root.close()
        return daemon
    }

    @Test(arguments: Dialect.allCases)
    func aBulkOf12000CallsIsWatchedToItsEndWithPacedProgress(_ dialect: Dialect) async throws {
        let daemon = try await Self.daemon()
        let before = daemon.residentMemory
        let pings = JSON.array(Array(repeating: .array([]), count: 12_000))
        let port = daemon.port
        let (events, reading, elapsed) = try await Binary.onThread { try Self.watchBurst(port: port, dialect, method: "core.bulk", params: ["core.ping", pings]) }
        Self.expectCompleteHistory(events, reading: reading, steps: 12_000)
        // Progress events are at least 100 ms apart when sent, and all were sent within `elapsed`.
        let progress = events.filter { $0["state"] == "RUNNING" && $0["progress"]?["percent"] != .null }
        #expect(progress.count <= Int(elapsed / .milliseconds(100)) + 2, "\(progress.count) progress events in \(elapsed)")
        let growth = daemon.residentMemory - before
        #expect(growth < 64 << 20, "the daemon grew by \(growth >> 20) MiB")
        #expect(try await daemon.stop() == 0)
    }

    @Test(arguments: Dialect.allCases)
    func withoutPacingALaggingReaderGetsMergedProgressAndStaysConnected(_ dialect: Dialect) async throws {
        // Every one of 3,000 reports is published (`jobs.progress-interval-ms` 0) into a queue of 16 frames: only
        // merging on the connection keeps the reader within its bound. (Each event carries the job's 3,000
        // arguments, so this is 18 MB of events, made in a few seconds by a debug build.)
        let daemon = try await Self.daemon(jobs: #"{"progress-interval-ms": 0}"#, dispatcher: #"{"max-outbound-messages": 16}"#)
        let before = daemon.residentMemory
        let port = daemon.port
        let pings = JSON.array(Array(repeating: .array([]), count: 3_000))
        let (events, reading, _) = try await Binary.onThread { try Self.watchBurst(port: port, dialect, method: "core.bulk", params: ["core.ping", pings]) }
        Self.expectCompleteHistory(events, reading: reading, steps: 3_000)
        let percents = events.compactMap { $0["progress"]?["percent"]?.intValue }
        #expect(percents == percents.sorted(), "merged progress never goes back")
        let growth = daemon.residentMemory - before
        #expect(growth < 64 << 20, "the daemon grew by \(growth >> 20) MiB")
        #expect(try await daemon.stop() == 0)
    }
}
