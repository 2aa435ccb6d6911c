import Foundation
import Histogram
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SwitchboardClient
import SwitchboardCore

/// One figure of a scenario.
struct Figure: Sendable {
    var name: String
    var value: Double
    var unit: String
}

struct LoadMeasurement: Sendable {
    var rate: Double
    var completed: Int
    var errors: Int
    var p50: Double, p90: Double, p99: Double, p999: Double
    var serverCPUPerCall: Double

    func figures(_ prefix: String) -> [Figure] {
        [Figure(name: "\(prefix) calls/s", value: rate, unit: "/s"),
         Figure(name: "\(prefix) p50", value: p50, unit: "us"), Figure(name: "\(prefix) p90", value: p90, unit: "us"),
         Figure(name: "\(prefix) p99", value: p99, unit: "us"), Figure(name: "\(prefix) p99.9", value: p999, unit: "us"),
         Figure(name: "\(prefix) server CPU per call", value: serverCPUPerCall, unit: "us"),
         Figure(name: "\(prefix) errors", value: Double(errors), unit: "")]
    }
}

func debug(_ text: String) {
    if ProcessInfo.processInfo.environment["SWITCHBOARD_BENCH_DEBUG"] != nil {
        FileHandle.standardError.write(Data("bench: \(text)\n".utf8))
    }
}

enum Scenarios {
    static let group = MultiThreadedEventLoopGroup.singleton

    /// C connections with K requests each in flight for `duration`; server CPU from /proc/PID/stat.
    static func load(port: Int, token: String, pid: Int32, connections: Int, inFlight: Int, duration: Duration,
                     method: String, params: String, setup: String? = nil) async throws -> LoadMeasurement {
        let run = LoadRun()
        var opened: [(any Channel, LoadHandler)] = []
        let cpuBefore = ProcessStats.cpuSeconds(pid)
        let start = ContinuousClock.now
        for _ in 0..<connections {
            opened.append(try await LoadConnection.open(
                port: port, mode: .requests(inFlight: inFlight, method: method, params: params, setup: setup), token: token, run: run, group: group))
        }
        try await Task.sleep(for: duration)
        run.stop()
        let elapsed = start.duration(to: .now)
        let cpuAfter = ProcessStats.cpuSeconds(pid)
        try await Task.sleep(for: .milliseconds(300))
        for (channel, handler) in opened {
            try await channel.eventLoop.submit { handler.collect() }.get()
            try? await channel.close()
        }
        let results = run.results.withLockedValue { $0 }
        let seconds = elapsed.inSeconds
        let latency = results.latency
        return LoadMeasurement(
            rate: Double(results.completed) / seconds, completed: results.completed, errors: results.errors,
            p50: Double(latency.valueAtPercentile(50)), p90: Double(latency.valueAtPercentile(90)),
            p99: Double(latency.valueAtPercentile(99)), p999: Double(latency.valueAtPercentile(99.9)),
            serverCPUPerCall: results.completed > 0 ? (cpuAfter - cpuBefore) / Double(results.completed) * 1e6 : 0)
    }

    /// `rpc` and `baseline` in one run, so their ratio compares like with like.
    static func rpc(connections: Int, inFlight: Int, duration: Duration, withBaseline: Bool, postgres: String? = nil) async throws -> [Figure] {
        let daemon = try DaemonProcess(configuration: DaemonProcess.configuration(postgres: postgres))
        let driver = postgres == nil ? "" : " (PostgreSQL)"
        defer { daemon.stop() }
        debug("started daemon pid \(daemon.pid) port \(daemon.port)")
        try daemon.waitReady()
        debug("ready")
        try await daemon.prepareAdmin()
        debug("admin prepared")
        var figures: [Figure] = []
        let ping = try await load(port: daemon.port, token: daemon.token, pid: daemon.pid, connections: connections, inFlight: inFlight,
                                  duration: duration, method: "core.ping", params: "[]")
        figures += ping.figures("rpc\(driver) core.ping \(connections)x\(inFlight)")
        let query = try await load(port: daemon.port, token: daemon.token, pid: daemon.pid, connections: connections, inFlight: inFlight,
                                   duration: duration, method: "user.query",
                                   params: #"[[["username","=","bench"],["locked","=",false]],{"select":["id","username","roles"],"order_by":["-id"],"limit":10}]"#)
        figures += query.figures("rpc\(driver) user.query \(connections)x\(inFlight)")
        if withBaseline {
            let baseline = try await baselineLoad(connections: connections, inFlight: inFlight, duration: duration)
            figures += baseline.figures("baseline \(connections)x\(inFlight)")
            figures.append(Figure(name: "rpc/baseline rate ratio", value: ping.rate / max(baseline.rate, 1), unit: "x"))
            figures.append(Figure(name: "rpc/baseline server CPU per call ratio",
                                  value: ping.serverCPUPerCall / max(baseline.serverCPUPerCall, 0.001), unit: "x"))
        }
        return figures
    }

    /// Starts the bare Hummingbird server as a child process; the caller kills it.
    static func startBaseline() throws -> (Process, Int) {
        let port = DaemonProcess.freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["baseline-server", "--port", String(port)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(20)
        while !DaemonProcess.healthy(port: port) && ContinuousClock.now < deadline { usleep(1000) }
        return (process, port)
    }

    static func baselineLoad(connections: Int, inFlight: Int, duration: Duration) async throws -> LoadMeasurement {
        let (process, port) = try startBaseline()
        defer {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return try await load(port: port, token: "none", pid: process.processIdentifier, connections: connections, inFlight: inFlight,
                              duration: duration, method: "core.ping", params: "[]")
    }

    /// N subscribers of `user.query`; an emitter (one connection, `emitters` calls in flight) updates one user
    /// as fast as it can, stamping the send time.
    ///
    /// With `rate` > 0 the emitter is paced: the n-th update is sent at `n / rate` seconds (its calls in flight
    /// still at most `emitters`), so latency is measured at a chosen load rather than at saturation.
    static func fanout(subscribers: Int, emitters: Int, rate: Double = 0, duration: Duration, postgres: String? = nil) async throws -> [Figure] {
        _ = ProcessStats.raiseFileLimit()
        let daemon = try DaemonProcess(configuration: DaemonProcess.configuration(maxRunningCalls: 64, postgres: postgres))
        defer { daemon.stop() }
        try daemon.waitReady()
        try await daemon.prepareAdmin()
        return try await fanout(emitter: daemon, subscribedTo: [daemon], subscribers: subscribers, emitters: emitters, rate: rate,
                                duration: duration, prefix: postgres == nil ? "fanout" : "fanout (PostgreSQL)")
    }

    /// The fan-out measured from `source`'s updates to subscribers spread evenly over `daemons` (other nodes of a
    /// cluster, or `source` itself); CPU and RSS are `source`'s when it is among them, else the subscribed nodes'.
    static func fanout(emitter source: DaemonProcess, subscribedTo daemons: [DaemonProcess], subscribers: Int, emitters: Int,
                       rate: Double, duration: Duration, prefix: String) async throws -> [Figure] {
        let daemon = daemons.contains { $0 === source } ? source : daemons[0]
        let run = LoadRun()
        var opened: [(any Channel, LoadHandler)] = []
        for index in 0..<subscribers {
            let node = daemons[index % daemons.count]
            opened.append(try await LoadConnection.open(port: node.port, mode: .subscriber(event: "user.query"), token: node.token, run: run, group: group))
        }
        let emitter = try await RPCClient.connect(to: ConnectionTarget(.tcp(host: "127.0.0.1", port: source.port)))
        _ = try await emitter.call("auth.login_with_token", [.string(source.token)])
        let user = try await emitter.call("user.create", [["username": .string("target-\(UUID().uuidString.prefix(8).lowercased())")]])
        // Until every subscriber has the creation: on other nodes that takes a relay round, not a fixed time.
        let settle = ContinuousClock.now + .seconds(10)
        while run.delivered.load(ordering: .relaxed) < subscribers && ContinuousClock.now < settle {
            try await Task.sleep(for: .milliseconds(10))
        }
        let settled = run.delivered.load(ordering: .relaxed)
        let rssBefore = ProcessStats.residentBytes(daemon.pid)
        let cpuBefore = daemons.reduce(0) { $0 + ProcessStats.cpuSeconds($1.pid) }
        let start = ContinuousClock.now
        var emitted = 0
        let peakRSS = ManagedCounter()
        let pid = daemon.pid
        let userID = user["id"] ?? .null
        // When each emitter's call returned: the event was published before its reply was queued, so arrival
        // minus this is the fan-out's own delay, without the emitter's wait in the daemon's call queue.
        let replies = NIOLockedValueBox([UInt64: UInt64]())
        try await withThrowingTaskGroup(of: Int.self) { tasks in
            for index in 0..<emitters {
                tasks.addTask {
                    var count = 0
                    while start.duration(to: .now) < duration {
                        if rate > 0 {
                            // This task sends updates index, index + emitters, ...; late ones go at once.
                            let due = start + .nanoseconds(Int64(Double(index + count * emitters) / rate * 1e9))
                            if due >= start + duration { break }
                            if due > .now { try await Task.sleep(until: due, clock: .continuous) }
                        }
                        let stamp = UInt64(DispatchWallClock.nanos())
                        _ = try await emitter.call("user.update", [userID, ["full_name": .string("t:\(stamp)")]])
                        let replied = UInt64(DispatchWallClock.nanos())
                        replies.withLockedValue { $0[stamp] = replied }
                        count += 1
                        if count % 50 == 0 { peakRSS.max(ProcessStats.residentBytes(pid)) }
                    }
                    return count
                }
            }
            for try await count in tasks { emitted += count }
        }
        let elapsed = start.duration(to: .now)
        // Drain: until every subscriber has every event, or 10 s (a lost delivery then shows in the counts).
        let drainDeadline = ContinuousClock.now + .seconds(10)
        while run.delivered.load(ordering: .relaxed) < settled + emitted * subscribers && ContinuousClock.now < drainDeadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        // After the drain, so the deliveries still queued at the end are paid for and counted alike.
        let cpu = daemons.reduce(0) { $0 + ProcessStats.cpuSeconds($1.pid) } - cpuBefore
        for (channel, handler) in opened {
            try await channel.eventLoop.submit { handler.collect() }.get()
            try? await channel.close()
        }
        await emitter.close()
        let results = run.results.withLockedValue { $0 }
        let seconds = elapsed.inSeconds
        let replyTimes = replies.withLockedValue { $0 }
        var afterReply = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        for (stamp, arrival) in results.arrivals {
            guard let replied = replyTimes[stamp] else { continue }
            // Arriving before the emitter's own reply counts as no delay.
            _ = afterReply.record(arrival > replied ? max(1, (arrival - replied) / 1000) : 1)
        }
        let completed = results.completed - settled
        return [
            Figure(name: "\(prefix) subscribers", value: Double(subscribers), unit: ""),
            Figure(name: "\(prefix) events emitted", value: Double(emitted), unit: ""),
            Figure(name: "\(prefix) events emitted/s", value: Double(emitted) / seconds, unit: "/s"),
            Figure(name: "\(prefix) deliveries", value: Double(completed), unit: ""),
            Figure(name: "\(prefix) deliveries/s", value: Double(completed) / seconds, unit: "/s"),
            Figure(name: "\(prefix) send-to-delivery p50", value: Double(results.latency.valueAtPercentile(50)) / 1000, unit: "ms"),
            Figure(name: "\(prefix) send-to-delivery p99", value: Double(results.latency.valueAtPercentile(99)) / 1000, unit: "ms"),
            Figure(name: "\(prefix) delivery after emitter's reply p50", value: Double(afterReply.valueAtPercentile(50)) / 1000, unit: "ms"),
            Figure(name: "\(prefix) delivery after emitter's reply p99", value: Double(afterReply.valueAtPercentile(99)) / 1000, unit: "ms"),
            // Less noisy than the rate on a shared machine: what one delivery costs the daemon, its share of
            // the emitter's call included.
            Figure(name: "\(prefix) daemon CPU per delivery", value: completed > 0 ? cpu / Double(completed) * 1e6 : 0, unit: "us"),
            Figure(name: "\(prefix) daemon RSS growth (peak)", value: Double(max(peakRSS.value, rssBefore) - rssBefore) / 1_048_576, unit: "MiB"),
        ]
    }

    /// Trivial durable jobs, each call waiting for SUCCESS (new-style jobs).
    static func jobs(connections: Int, inFlight: Int, duration: Duration, postgres: String? = nil) async throws -> [Figure] {
        let daemon = try DaemonProcess(configuration: DaemonProcess.configuration(postgres: postgres))
        defer { daemon.stop() }
        try daemon.waitReady()
        try await daemon.prepareAdmin()
        let result = try await load(port: daemon.port, token: daemon.token, pid: daemon.pid, connections: connections, inFlight: inFlight,
                                    duration: duration, method: "core.noop_job", params: "[]",
                                    setup: #"{"jsonrpc":"2.0","id":0,"method":"core.set_options","params":[{"legacy_jobs":false}]}"#)
        let prefix = postgres == nil ? "jobs" : "jobs (PostgreSQL)"
        return [
            Figure(name: "\(prefix) completed/s", value: result.rate, unit: "/s"),
            Figure(name: "\(prefix) submit-to-SUCCESS p50", value: result.p50 / 1000, unit: "ms"),
            Figure(name: "\(prefix) submit-to-SUCCESS p99", value: result.p99 / 1000, unit: "ms"),
            Figure(name: "\(prefix) errors", value: Double(result.errors), unit: ""),
        ]
    }

    /// Idle authenticated connections: RSS per connection, and RSS over repeated connect/disconnect rounds.
    static func conns(count: Int, rounds: Int) async throws -> [Figure] {
        let limit = ProcessStats.raiseFileLimit()
        let daemon = try DaemonProcess()
        defer { daemon.stop() }
        try daemon.waitReady()
        try await daemon.prepareAdmin()
        let count = min(count, max(16, limit / 2 - 64))
        try await Task.sleep(for: .milliseconds(300))
        let idle = ProcessStats.residentBytes(daemon.pid)
        var afterFirst = 0
        var perConnection = 0.0
        var last = 0
        for round in 0..<rounds {
            let run = LoadRun()
            var opened: [any Channel] = []
            for _ in 0..<count {
                opened.append(try await LoadConnection.open(port: daemon.port, mode: .idle, token: daemon.token, run: run, group: group).0)
            }
            try await Task.sleep(for: .milliseconds(300))
            let connected = ProcessStats.residentBytes(daemon.pid)
            if round == 0 { perConnection = Double(connected - idle) / Double(count) }
            for channel in opened { try? await channel.close() }
            try await Task.sleep(for: .milliseconds(500))
            last = ProcessStats.residentBytes(daemon.pid)
            if round == 0 { afterFirst = last }
        }
        // The same connections (its "login" is answered like any call) against bare Hummingbird, for the ratio.
        let (baseline, baselinePort) = try startBaseline()
        defer {
            kill(baseline.processIdentifier, SIGKILL)
            baseline.waitUntilExit()
        }
        try await Task.sleep(for: .milliseconds(300))
        let baselineIdle = ProcessStats.residentBytes(baseline.processIdentifier)
        var baselineOpened: [any Channel] = []
        for _ in 0..<count {
            baselineOpened.append(try await LoadConnection.open(port: baselinePort, mode: .idle, token: "none", run: LoadRun(), group: group).0)
        }
        try await Task.sleep(for: .milliseconds(300))
        let baselinePerConnection = Double(ProcessStats.residentBytes(baseline.processIdentifier) - baselineIdle) / Double(count)
        for channel in baselineOpened { try? await channel.close() }
        return [
            Figure(name: "conns connections", value: Double(count), unit: ""),
            Figure(name: "conns idle daemon RSS", value: Double(idle) / 1_048_576, unit: "MiB"),
            Figure(name: "conns RSS per idle connection", value: perConnection / 1024, unit: "KiB"),
            Figure(name: "conns baseline RSS per idle connection", value: baselinePerConnection / 1024, unit: "KiB"),
            Figure(name: "conns per-connection ratio to baseline", value: perConnection / max(baselinePerConnection, 1), unit: "x"),
            Figure(name: "conns RSS after round 1", value: Double(afterFirst) / 1_048_576, unit: "MiB"),
            Figure(name: "conns RSS after round \(rounds)", value: Double(last) / 1_048_576, unit: "MiB"),
            Figure(name: "conns RSS growth rounds 1..\(rounds)", value: afterFirst > 0 ? Double(last - afterFirst) / Double(afterFirst) * 100 : 0, unit: "%"),
        ]
    }

    /// Process start to `/health` answering, median of `starts`.
    static func startup(starts: Int) throws -> [Figure] {
        var times: [Double] = []
        for _ in 0..<starts {
            let begin = ContinuousClock.now
            let daemon = try DaemonProcess()
            try daemon.waitReady()
            let elapsed = begin.duration(to: .now)
            times.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
            daemon.stop()
        }
        times.sort()
        return [
            Figure(name: "startup to /health median", value: times[times.count / 2], unit: "ms"),
            Figure(name: "startup min", value: times.first ?? 0, unit: "ms"),
            Figure(name: "startup max", value: times.last ?? 0, unit: "ms"),
        ]
    }
}

/// A lock-protected maximum, for sampling peak memory from several tasks.
final class ManagedCounter: Sendable {
    private let box = NIOLockedValueBox(0)
    func max(_ value: Int) { box.withLockedValue { $0 = Swift.max($0, value) } }
    var value: Int { box.withLockedValue { $0 } }
}
