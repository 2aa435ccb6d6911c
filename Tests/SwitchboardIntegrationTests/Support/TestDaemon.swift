import Foundation
import Logging
import SwitchboardClient
import SwitchboardCore
import SwitchboardPlugins
import SwitchboardServer
import Synchronization

/// A real daemon in this process: a temporary state folder, an ephemeral port, a local socket.
final class TestDaemon: Sendable {
    let stateDir: String
    let port: Int
    /// The debug UI's port, when the test turned it on (`frontendPort = 0`).
    let frontendPort: Int?
    let socketPath: String
    let task: Task<Void, any Error>
    let daemon: Daemon

    var tcp: ConnectionTarget { ConnectionTarget(.tcp(host: "127.0.0.1", port: port)) }
    var unix: ConnectionTarget { ConnectionTarget(.unix(path: socketPath)) }

    private init(stateDir: String, port: Int, frontendPort: Int?, socketPath: String, task: Task<Void, any Error>, daemon: Daemon) {
        self.daemon = daemon
        self.stateDir = stateDir
        self.port = port
        self.frontendPort = frontendPort
        self.socketPath = socketPath
        self.task = task
    }

    static func makeStateDir() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-test-\(UUID().uuidString.prefix(8))").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func start(
        stateDir: String? = nil, plugins: [any Plugin] = BuiltinPlugins.all + [TestPlugin()], logHandler: LogCapture? = nil,
        reloadSettings: PluginSettings? = nil, configure: (inout DaemonConfiguration) -> Void = { _ in }
    ) async throws -> TestDaemon {
        let dir = stateDir ?? makeStateDir()
        var configuration = DaemonConfiguration(stateDir: dir)
        configuration.websocketPort = 0
        // The debug UI only where a test asks for it (frontendPort 0).
        configuration.frontendPort = nil
        configuration.plugins = ["user": ["bcrypt_cost": 4]]
        // Every test client comes from 127.0.0.1: keep failed logins quick and never lock the tests out;
        // the tests of these limits set them.
        configuration.guardLimits.loginFailureDelay = .milliseconds(20)
        configuration.guardLimits.loginFailures = 1_000_000
        configuration.guardLimits.unauthenticatedCalls = 1_000_000
        configuration.maxConnectionsPerAddress = 100_000
        configure(&configuration)
        var logger = logHandler.map { handler in Logger(label: "test-daemon") { _ in handler } } ?? Logger(label: "test-daemon")
        logger.logLevel = logHandler == nil ? .warning : .info
        // A reload reads the plugins section the test set last, as the binary reads its file again.
        let started = configuration
        var reload: (@Sendable () throws -> DaemonConfiguration)?
        if let reloadSettings {
            reload = { @Sendable in
                var fresh = started
                fresh.plugins = reloadSettings.section
                return fresh
            }
        }
        if let reloadSettings { reloadSettings.section = configuration.plugins }
        let daemon = Daemon(configuration: configuration, logger: logger, plugins: plugins, reloadConfiguration: reload)
        let (ready, readySink) = AsyncStream<ReadyInfo>.makeStream()
        let failure = Mutex<(any Error)?>(nil)
        let task = Task {
            do {
                try await daemon.run { readySink.yield($0) }
            } catch {
                failure.withLock { $0 = error }
                readySink.finish()
                throw error
            }
            readySink.finish()
        }
        var iterator = ready.makeAsyncIterator()
        guard let info = await iterator.next() else {
            if let error = failure.withLock({ $0 }) { throw error }
            throw ClientError.connectionFailed("daemon stopped before it was ready")
        }
        return TestDaemon(stateDir: dir, port: info.port, frontendPort: info.frontendPort, socketPath: info.socketPath ?? "", task: task, daemon: daemon)
    }

    /// Stops the daemon as SIGTERM would, and waits until it has closed everything.
    func stop() async {
        await daemon.stop()
        _ = try? await task.value
    }

    /// A JSON-RPC client on the local socket, where the test (running as root or as the daemon's user) is FULL_ADMIN.
    func rootClient() async throws -> RPCClient {
        try await RPCClient.connect(to: unix)
    }

    /// Creates a user through the local socket and returns a TCP client logged in as that user.
    func client(as username: String, roles: [String], password: String = "pa55word") async throws -> RPCClient {
        let root = try await rootClient()
        _ = try await root.call("user.create", [["username": .string(username), "password": .string(password), "roles": JSON(strings: roles)]])
        await root.close()
        let client = try await RPCClient.connect(to: tcp)
        let ok = try await client.call("auth.login", [.string(username), .string(password)])
        guard ok == true else { throw ClientError.protocolViolation("login of \(username) failed") }
        return client
    }
}

/// Methods only the tests need: a slow call for the concurrency limit, an echo.
struct TestPlugin: Plugin {
    let name = "test"
    let dependencies = ["core"]

    func setUp(_ context: PluginContext) async throws {
        try context.register(MethodDescriptor(
            "test.sleep", params: [Parameter("milliseconds", schema: ["type": "integer", "minimum": 0, "maximum": 60_000])],
            returns: ["type": "boolean"], roles: [Role.readonlyAdmin], flags: .readonly
        ) { _, args in
            try await Task.sleep(for: .milliseconds(args[0].intValue ?? 0))
            return true
        })
        // A job that reports progress each step, logs a line per step, and fails when asked to.
        try context.register(MethodDescriptor.job(
            "test.job", params: [Parameter("steps", schema: ["type": "integer", "minimum": 0]),
                                 Parameter("step_ms", schema: ["type": "integer", "minimum": 0], default: 10),
                                 Parameter("fail", schema: ["type": "boolean"], default: false)],
            roles: [Role.readonlyAdmin], options: JobOptions(abortable: true, description: { args in "test job of \(args[0]) steps" })
        ) { job, args in
            let steps = Int(args[0].intValue ?? 0)
            for step in 0..<steps {
                try await Task.sleep(for: .milliseconds(args[1].intValue ?? 10))
                await job.log("step \(step + 1)")
                await job.setProgress((step + 1) * 100 / steps, "step \(step + 1)")
                // Repeating the same progress must not produce another event.
                await job.setProgress((step + 1) * 100 / steps, "step \(step + 1)")
            }
            if args[2] == true { throw CallError(Errno.ENOSPC, "no space left for the test") }
            return ["steps": .int(Int64(steps))]
        })
        // Jobs and a call that run until the test opens their gate (see `Gates`), instead of for a time.
        let gates = Gates()
        let gate = Parameter("gate", schema: ["type": "string", "minLength": 1])
        for (suffix, queue) in [("serial", nil), ("exclusive", 0), ("queued", 1)] as [(String, Int?)] {
            try context.register(MethodDescriptor.job(
                "test.\(suffix)", params: [gate],
                roles: [Role.readonlyAdmin], options: JobOptions(lock: { _ in "lock-\(suffix)" }, lockQueueSize: queue, abortable: true)
            ) { _, args in
                try await gates.wait(args[0].stringValue ?? "")
                return true
            })
        }
        // Returns the fencing token of its lock's cluster lease (null on one node).
        try context.register(MethodDescriptor.job(
            "test.fenced", roles: [Role.readonlyAdmin], options: JobOptions(lock: { _ in "lock-fenced" })
        ) { job, _ in
            job.fencingToken.map { .int($0) } ?? .null
        })
        try context.register(MethodDescriptor.job(
            "test.gated", params: [gate], roles: [Role.readonlyAdmin], options: JobOptions(abortable: true)
        ) { _, args in
            try await gates.wait(args[0].stringValue ?? "")
            return true
        })
        try context.register(MethodDescriptor.job(
            "test.unabortable", params: [gate], roles: [Role.readonlyAdmin]
        ) { _, args in
            // Not abortable: an abort never reaches it, so only the gate ends it.
            try? await gates.wait(args[0].stringValue ?? "")
            return true
        })
        try context.register(MethodDescriptor(
            "test.hold", params: [gate], returns: ["type": "boolean"], roles: [Role.readonlyAdmin], flags: .readonly
        ) { _, args in
            try await gates.wait(args[0].stringValue ?? "")
            return true
        })
        try context.register(MethodDescriptor(
            "test.open", params: [gate], returns: ["type": "boolean"], roles: [Role.readonlyAdmin]
        ) { _, args in
            gates.open(args[0].stringValue ?? "")
            return true
        })
        try context.register(MethodDescriptor(
            "test.waiting", params: [gate], returns: ["type": "integer"], roles: [Role.readonlyAdmin], flags: .readonly
        ) { _, args in
            .int(Int64(gates.waiting(on: args[0].stringValue ?? "")))
        })
        // Workers: one that crashes each run once its gate is open (quarantined soon: intensity 3), one whose run
        // n waits for gate `lazy-n` and then crashes, restarted only after 600 s unless someone asks for it.
        try context.register(WorkerDescriptor(
            "test.crashy", description: "crashes once its gate is open",
            policy: RestartPolicy(initialDelay: .milliseconds(10), maxDelay: .seconds(600), jitter: 0, intensity: 3, window: .seconds(600))
        ) { _ in
            try await gates.wait("crashy")
            throw CallError(Errno.EIO, "crashed for the test")
        })
        try context.register(WorkerDescriptor(
            "test.lazy", description: "crashes when its run's gate opens",
            policy: RestartPolicy(initialDelay: .seconds(600), maxDelay: .seconds(600), jitter: 0)
        ) { worker in
            try await gates.wait("lazy-\(worker.run)")
            throw CallError(Errno.EIO, "run \(worker.run) ended for the test")
        })
        try context.register(MethodDescriptor(
            "test.get_worker", params: [Parameter("name", schema: ["type": "string"])], returns: true, roles: [Role.readonlyAdmin]
        ) { _, args in
            context.worker(named: args[0].stringValue ?? "")?.json ?? .null
        })
        try context.register(MethodDescriptor.job(
            "test.transient", params: [], roles: [Role.readonlyAdmin], options: JobOptions(transient: true)
        ) { _, _ in "gone" })
        // Event sources: one that fails on its first two runs, one that ends, one that always fails.
        let runs = SourceRuns()
        try context.register(EventSourceDescriptor("test.counter", roles: [Role.readonlyAdmin], maxRestarts: 3) { argument, emit in
            let run = runs.start()
            defer { runs.stop() }
            let step = argument["step"]?.intValue ?? 1
            for n in 1...1_000_000 {
                try await Task.sleep(for: .milliseconds(20))
                emit(.changed, .int(Int64(n) * step), ["run": .int(Int64(run))])
                if run <= 2 && n == 2 { throw CallError(Errno.EIO, "flaky source failed") }
            }
        })
        try context.register(EventSourceDescriptor("test.finite", roles: [Role.readonlyAdmin]) { _, emit in
            emit(.added, 1, ["n": 1])
            emit(.added, 2, ["n": 2])
        })
        try context.register(EventSourceDescriptor("test.broken", roles: [Role.readonlyAdmin], maxRestarts: 2) { _, _ in
            throw CallError(Errno.EIO, "broken for good")
        })
        let registry = context.registry
        try context.register(MethodDescriptor("test.source_runs", returns: true, roles: [Role.readonlyAdmin]) { _, _ in
            ["starts": .int(Int64(runs.starts)), "running": .int(Int64(runs.running)),
             "producers": .int(Int64(registry.runningEventSources))]
        })
        try context.register(MethodDescriptor(
            "test.subscriptions", params: [Parameter("name", schema: ["type": "string"])], returns: true, roles: [Role.readonlyAdmin]
        ) { _, args in
            .int(Int64(registry.subscriberCount(args[0].stringValue ?? "")))
        })
        try context.register(MethodDescriptor(
            "test.emit", params: [Parameter("count", schema: ["type": "integer"]), Parameter("size", schema: ["type": "integer"], default: 10)],
            returns: true, roles: [Role.readonlyAdmin]
        ) { _, args in
            let padding = String(repeating: "x", count: Int(args[1].intValue ?? 10))
            for n in 0..<(args[0].intValue ?? 0) {
                context.emit(Event(name: "test.fanout", kind: .changed, id: .int(n), fields: ["n": .int(n), "pad": .string(padding)]))
            }
            return true
        })
        try context.register(EventTypeDescriptor("test.fanout", roles: [Role.readonlyAdmin]))
        // What clients emit (core.emit_event, FreeNAS 10's events/event): a type whose schema is checked, and a
        // server-side handler that counts what it heard.
        try context.register(EventTypeDescriptor("test.reported", roles: [Role.readonlyAdmin], schema: [
            "type": "object", "properties": ["level": ["enum": ["info", "warn"]], "id": ["type": "integer"]], "required": ["level"],
        ]))
        let reports = Mutex(0)
        context.onEvent("test.reported") { _ in reports.withLock { $0 += 1 } }
        try context.register(MethodDescriptor("test.reports_heard", returns: ["type": "integer"], roles: [Role.readonlyAdmin]) { _, _ in
            .int(Int64(reports.withLock { $0 }))
        })
        // Zephserver's say: each event reaches every node, though its type is node-local.
        try context.register(MethodDescriptor(
            "test.say", params: [Parameter("count", schema: ["type": "integer"]), Parameter("tag", schema: ["type": "string"], default: "")],
            returns: true, roles: [Role.readonlyAdmin]
        ) { _, args in
            for n in 1...max(1, args[0].intValue ?? 1) {
                context.say("test.said", ["n": .int(n), "tag": args[1], "node": .string(context.daemon.nodeName)])
            }
            return true
        })
        try context.register(EventTypeDescriptor("test.said", roles: [Role.readonlyAdmin]))
        // What `subscribe` handlers heard, from any node: counted per tag.
        let heard = Mutex<[String: Int]>([:])
        context.subscribe("test.said") { event in
            heard.withLock { $0[event.fields["tag"]?.stringValue ?? "", default: 0] += 1 }
        }
        try context.register(MethodDescriptor(
            "test.heard", params: [Parameter("tag", schema: ["type": "string"])], returns: true, roles: [Role.readonlyAdmin], flags: .readonly
        ) { _, args in
            .int(Int64(heard.withLock { $0[args[0].stringValue ?? ""] ?? 0 }))
        })
        // Declares a larger message limit than the default 64 KiB, as an upload method would.
        var echo = try MethodDescriptor(
            "test.echo", params: [Parameter("value", schema: true)], returns: true, roles: [Role.readonlyAdmin], flags: .readonly
        ) { _, args in args[0] }
        echo.maxMessageSize = 1 << 20
        try context.register(echo)
    }
}

/// The `plugins` section a test daemon's reload reads: what the configuration file would hold.
final class PluginSettings: Sendable {
    private let state = Mutex<JSON>([:])
    var section: JSON {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }

    /// Sets one plugin's section.
    func set(_ plugin: String, _ value: JSON) {
        state.withLock { section in
            var object = section.objectValue ?? [:]
            object[plugin] = value
            section = .object(object)
        }
    }
}

/// Counts the runs of the test event source.
final class SourceRuns: Sendable {
    private let state = Mutex((starts: 0, running: 0))
    func start() -> Int { state.withLock { $0.starts += 1; $0.running += 1; return $0.starts } }
    func stop() { state.withLock { $0.running -= 1 } }
    var starts: Int { state.withLock { $0.starts } }
    var running: Int { state.withLock { $0.running } }
}

extension WebSocketConnection {
    /// The next text frame, parsed; fails the test after `timeout`.
    func nextJSON(timeout: Duration = .seconds(10)) async throws -> JSON {
        let frames = self.frames
        return try await withThrowingTaskGroup(of: JSON?.self) { group in
            group.addTask {
                var iterator = frames.makeAsyncIterator()
                guard let text = try await iterator.next() else { throw ClientError.closed }
                return try JSON.parse(text)
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw ClientError.protocolViolation("no frame within \(timeout)")
            }
            return value
        }
    }
}

/// The errno a failed call carried.
func errno(of error: any Error) -> Int64? {
    if case ClientError.call(_, _, let data) = error { return data["error"]?.intValue }
    return nil
}
