import Histogram
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import SwitchboardClient
import Synchronization

/// What one benchmark connection does after the WebSocket upgrade.
enum LoadMode: Sendable {
    /// Closed loop: keep `inFlight` requests outstanding until told to stop; replies matched by scanning the id.
    case requests(inFlight: Int, method: String, params: String, setup: String? = nil)
    /// Receive events, recording the delay between the timestamp they carry and their arrival.
    case subscriber(event: String)
    /// Log in and stay idle.
    case idle
}

/// Shared by every connection of a run: the stop flag and the counters.
final class LoadRun: Sendable {
    let stopFlag = NIOLockedValueBox(false)
    let results = NIOLockedValueBox(LoadResults())
    /// Events received by all subscribers so far, readable while the run goes on (the results are merged only
    /// at the end), so a fan-out run can wait for its deliveries instead of for a time.
    let delivered = Atomic<Int>(0)

    var stopped: Bool { stopFlag.withLockedValue { $0 } }
    func stop() { stopFlag.withLockedValue { $0 = true } }
}

struct LoadResults: Sendable {
    var completed = 0
    var errors = 0
    var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    /// Subscribers: (the emitter's send stamp, arrival), wall-clock nanoseconds, matched to replies afterwards.
    var arrivals: [(stamp: UInt64, arrival: UInt64)] = []

    mutating func merge(_ other: LoadResults) {
        completed += other.completed
        errors += other.errors
        latency.add(other.latency)
        arrivals += other.arrivals
    }
}

/// A NIO handler that builds requests straight into buffers, finds reply ids by scanning, and flushes once per
/// read batch, so the load generator costs a few microseconds per call and is not what gets measured.
final class LoadHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let mode: LoadMode
    let token: String
    let run: LoadRun
    let ready: EventLoopPromise<Void>
    var local = LoadResults()
    var nextID: Int64 = 1
    var outstanding = 0
    var loggedIn = false
    var setupDone = false
    var sendTimes: [UInt64]
    let clock = ContinuousClock()
    let epoch: ContinuousClock.Instant
    var flushed = true

    init(mode: LoadMode, token: String, run: LoadRun, ready: EventLoopPromise<Void>) {
        self.mode = mode
        self.token = token
        self.run = run
        self.ready = ready
        // Only closed-loop connections time requests; 512 KiB per subscriber would dwarf what is measured.
        if case .requests = mode { self.sendTimes = Array(repeating: 0, count: 1 << 16) } else { self.sendTimes = [] }
        self.epoch = clock.now
    }

    func nanos() -> UInt64 {
        let d = epoch.duration(to: clock.now)
        return UInt64(d.components.seconds) * 1_000_000_000 + UInt64(d.components.attoseconds / 1_000_000_000)
    }

    var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// Logs in; called on the event loop once the upgrade has finished and the HTTP handlers are gone.
    func start() {
        guard let context else { return }
        send(context, #"{"jsonrpc":"2.0","id":0,"method":"auth.login_with_token","params":["\#(token)"]}"#)
        context.flush()
    }

    func send(_ context: ChannelHandlerContext, _ text: String) {
        var buffer = context.channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer)), promise: nil)
    }

    func sendRequest(_ context: ChannelHandlerContext, method: String, params: String) {
        let id = nextID
        nextID += 1
        sendTimes[Int(id) & 0xFFFF] = nanos()
        var buffer = context.channel.allocator.buffer(capacity: 64 + params.utf8.count)
        buffer.writeStaticString(#"{"jsonrpc":"2.0","id":"#)
        buffer.writeString(String(id))
        buffer.writeStaticString(#","method":""#)
        buffer.writeString(method)
        buffer.writeStaticString(#"","params":"#)
        buffer.writeString(params)
        buffer.writeStaticString("}")
        context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer)), promise: nil)
        outstanding += 1
    }

    static let idPattern: [UInt8] = Array(#""id":"#.utf8)
    static let timestampPattern: [UInt8] = Array(#""t:"#.utf8)
    static let errorPattern: [UInt8] = Array(#""error""#.utf8)

    /// glibc's `memmem` (a two-way search with SIMD), which Swift's Glibc module does not export: memchr on a
    /// pattern's first byte (a quote) stopped at every key of an event and was a tenth of the bench's CPU.
    typealias MemmemFunction = @convention(c) (UnsafeRawPointer?, Int, UnsafeRawPointer?, Int) -> UnsafeMutableRawPointer?
    static let memmemFunction: MemmemFunction? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "memmem")
        .map { unsafeBitCast($0, to: MemmemFunction.self) }

    /// Where `pattern` ends in `bytes`. Foundation's generic `firstRange(of:)` cost more than everything else the
    /// load generator does.
    static func end(of pattern: [UInt8], in bytes: UnsafeRawBufferPointer) -> Int? {
        guard let base = bytes.baseAddress, let first = pattern.first, bytes.count >= pattern.count else { return nil }
        if let memmem = memmemFunction {
            let hit = pattern.withUnsafeBytes { memmem(base, bytes.count, $0.baseAddress, $0.count) }
            return hit.map { base.distance(to: UnsafeRawPointer($0)) + pattern.count }
        }
        var offset = 0
        while offset + pattern.count <= bytes.count {
            guard let hit = memchr(base + offset, Int32(first), bytes.count - pattern.count + 1 - offset) else { return nil }
            let position = base.distance(to: UnsafeRawPointer(hit))
            let matches = pattern.withUnsafeBytes { memcmp(base + position, $0.baseAddress!, pattern.count) == 0 }
            if matches { return position + pattern.count }
            offset = position + 1
        }
        return nil
    }

    /// The unsigned integer right after `pattern`, scanned without parsing the JSON.
    static func number(after pattern: [UInt8], in buffer: ByteBuffer) -> UInt64? {
        buffer.withUnsafeReadableBytes { bytes in
            guard var index = end(of: pattern, in: bytes) else { return nil }
            var value: UInt64 = 0
            var digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                value = value &* 10 &+ UInt64(bytes[index] - 48)
                index += 1
                digits += 1
            }
            return digits > 0 ? value : nil
        }
    }

    /// The integer after `"id":`.
    static func scanID(_ buffer: ByteBuffer) -> Int64? {
        number(after: idPattern, in: buffer).map { Int64(truncatingIfNeeded: $0) }
    }

    /// The nanosecond timestamp an emitter put in an event's `"full_name":"t:<nanos>"`.
    static func scanTimestamp(_ buffer: ByteBuffer) -> UInt64? {
        number(after: timestampPattern, in: buffer)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard frame.opcode == .text || frame.opcode == .binary else {
            if frame.opcode == .ping {
                context.write(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.data)), promise: nil)
            }
            return
        }
        if !loggedIn || !setupDone {
            if !loggedIn, case .requests(_, _, _, let setup?) = mode {
                // One more exchange before the loop: e.g. core.set_options for new-style jobs.
                loggedIn = true
                send(context, setup)
                return
            }
            loggedIn = true
            setupDone = true
            switch mode {
            case .requests(let inFlight, let method, let params, _):
                ready.succeed()
                for _ in 0..<inFlight { sendRequest(context, method: method, params: params) }
            case .subscriber(let event):
                send(context, #"{"jsonrpc":"2.0","id":1,"method":"core.subscribe","params":["\#(event)"]}"#)
                ready.succeed()
            case .idle:
                ready.succeed()
            }
            return
        }
        switch mode {
        case .requests(_, let method, let params, _):
            outstanding -= 1
            // An error reply (a refusal comes back fast) counts as an error only, never toward the rate or latency.
            if frame.data.withUnsafeReadableBytes({ Self.end(of: Self.errorPattern, in: $0) }) != nil {
                local.errors += 1
            } else if let id = Self.scanID(frame.data) {
                let sent = sendTimes[Int(id) & 0xFFFF]
                _ = local.latency.record(max(1, (nanos() &- sent) / 1000))
                local.completed += 1
            }
            if !run.stopped { sendRequest(context, method: method, params: params) }
        case .subscriber:
            guard let sent = Self.scanTimestamp(frame.data) else { return }
            let now = UInt64(DispatchWallClock.nanos())
            _ = local.latency.record(max(1, (now &- sent) / 1000))
            local.arrivals.append((sent, now))
            local.completed += 1
            run.delivered.add(1, ordering: .relaxed)
        case .idle:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    /// Hands this connection's counts to the run (called on its event loop at the end).
    func collect() {
        let snapshot = local
        local = LoadResults()
        run.results.withLockedValue { $0.merge(snapshot) }
    }
}

/// Wall-clock nanoseconds, comparable across processes (event timestamps come from the emitter).
enum DispatchWallClock {
    static func nanos() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}

/// Opens a WebSocket and installs a `LoadHandler`.
enum LoadConnection {
    enum Upgrade: Sendable {
        case done(any Channel, LoadHandler)
        case refused
    }

    static func open(port: Int, path: String = "/api/current", mode: LoadMode, token: String, run: LoadRun,
                     group: any EventLoopGroup) async throws -> (any Channel, LoadHandler) {
        let result = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                let ready = channel.eventLoop.makePromise(of: Void.self)
                let upgrader = NIOTypedWebSocketClientUpgrader<(Upgrade, EventLoopFuture<Void>)>(maxFrameSize: 1 << 24) { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = LoadHandler(mode: mode, token: token, run: run, ready: ready)
                        try channel.pipeline.syncOperations.addHandler(handler)
                        return (Upgrade.done(channel, handler), ready.futureResult)
                    }
                }
                var headers = HTTPHeaders()
                headers.add(name: "Host", value: "127.0.0.1")
                headers.add(name: "Content-Length", value: "0")
                let configuration = NIOTypedHTTPClientUpgradeConfiguration(
                    upgradeRequestHead: HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers),
                    upgraders: [upgrader],
                    notUpgradingCompletionHandler: { channel in
                        channel.eventLoop.makeCompletedFuture { (Upgrade.refused, channel.eventLoop.makeSucceededVoidFuture()) }
                    })
                return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(configuration: .init(upgradeConfiguration: configuration))
            }
        }
        let (upgrade, ready) = try await result.get()
        guard case .done(let channel, let handler) = upgrade else { throw ClientError.upgradeRefused }
        channel.eventLoop.execute { handler.start() }
        try await ready.get()
        return (channel, handler)
    }
}
