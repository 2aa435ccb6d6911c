import Foundation
import Logging
import NIOPosix
import Synchronization
import SwitchboardCore

/// A plugin in a process of its own (any executable, or a `*.py` file run by the Python host), speaking
/// docs/plugin-protocol.md over fd 3. To the loader it is a plugin like the compiled-in ones: its
/// dependencies come from its `plugin.hello`, and it offers what it declares through the same `PluginContext`
/// API, so what it registers is owned, withdrawn and reloaded like theirs.
///
/// It supervises its process under `ExternalPluginSettings.restart`: a crash fails its in-flight calls at once
/// (EIO, naming the plugin and how it ended) and ends its running jobs FAILED; while it is down its methods
/// answer EAGAIN; each change is a `plugin.process` event and an audit record with the last lines it printed.
/// What it declares survives a restart unchanged when it declares the same again, so clients see no gap but
/// the EAGAIN window. Its setUp never throws for a misbehaving process: the daemon keeps serving and the
/// supervisor keeps trying, at the policy's maximum delay once quarantined.
public final class ExternalPlugin: Plugin, Sendable {
    /// Who the plugin says it is, read from its first hello at discovery and fixed from then on (the load
    /// order is worked out once); the file's name until then.
    struct Identity: Sendable {
        var name: String
        var dependencies: [String] = []
        var configurationSchema: JSON = ["type": "object"]
        var logger: Logger
    }

    public var name: String { identity.withLock { $0.name } }
    public var dependencies: [String] { identity.withLock { $0.dependencies } }
    public var configurationSchema: JSON { identity.withLock { $0.configurationSchema } }
    public var needs: PluginNeeds { [.auditTrail] }
    public var kind: String { "external" }
    var logger: Logger { identity.withLock { $0.logger } }
    /// The plugin's file and the command that runs it.
    let file: String
    let command: [String]
    let settings: ExternalPluginSettings
    /// The event loop every incarnation's link is served on, and where its forwarded calls run: one thread
    /// for the call and its socket (`EventLoopTaskExecutor`).
    let executor = EventLoopTaskExecutor(loop: MultiThreadedEventLoopGroup.singleton.next())
    let identity: Mutex<Identity>
    let state: Mutex<State>

    enum Phase: String, Sendable {
        case starting, running, restarting, quarantined, stopping, stopped
    }

    struct State: Sendable {
        var phase: Phase = .stopped
        var context: PluginContext?
        /// The incarnation that passed its handshake, while it runs.
        var running: PluginIncarnation?
        /// Spawned at discovery, its hello read, waiting for setUp.
        var discovered: (incarnation: PluginIncarnation, helloID: JSON, hello: JSON)?
        var record = RestartPolicy.Record()
        var pid: Int32?
        var lastExit: PluginProcess.ExitStatus?
        var lastReason: String?
        var lastLines: [String] = []
        var nextStartMillis: Int64?
        var version: String?
        /// What is registered now, by `PluginDeclaration.key`.
        var active: [String: PluginDeclaration] = [:]
        /// What a handshake in progress declared; nil outside a handshake.
        var building: [String: PluginDeclaration]?
        var handlers: [String: EventBus.Token] = [:]
        /// The caller of each call or job in flight, by the token the plugin calls back with.
        var callers: [String: CallContext] = [:]
        var jobs: [Int64: JobContext] = [:]
        /// The upload file each job of the plugin reads now (`job.input.next_file`), by job id.
        var inputFiles: [Int64: JobPipe] = [:]
        var sources: [String: SourceRun] = [:]
        /// Each run of a worker in the plugin, by the run id given to it: resolved by `worker.end` or a crash.
        var workerRuns: [String: OneShot<CallError?>] = [:]
        var callbacks = 0
        var supervisor: Task<Void, Never>?
        var stopping = false
        var lastToken: UInt64 = 0

        /// A new call token or source channel id. A counter is enough: a token only ever reaches the plugin
        /// it names a call of, and is worth nothing once that call ends.
        mutating func issueToken() -> String {
            lastToken += 1
            return String(lastToken)
        }
    }

    /// One running producer of an event source, by the channel id given to the plugin.
    struct SourceRun: Sendable {
        let emit: EventSourceDescriptor.Emit
        let ended: OneShot<CallError?>
    }

    /// - Parameter name: the name until the plugin's hello says otherwise (its file's name).
    init(name: String, file: String, command: [String], settings: ExternalPluginSettings, logger: Logger) {
        self.file = file
        self.command = command
        self.settings = settings
        var logger = logger
        logger[metadataKey: "plugin"] = .string(name)
        self.identity = Mutex(Identity(name: name, logger: logger))
        self.state = Mutex(State())
    }

    /// Starts the process and reads its hello, so that the loader knows the plugin's name and dependencies
    /// before it orders plugins; the process then waits, unanswered, until its turn to be set up. A process
    /// that cannot say hello is killed; the plugin keeps its file's name and no dependencies, and its setUp
    /// tries again under the restart policy.
    func discover() async {
        let incarnation: PluginIncarnation
        do {
            incarnation = try await spawn()
        } catch {
            logger.error("plugin cannot be started", metadata: ["error": .string("\(error)")])
            state.withLock { $0.lastReason = "\(error)" }
            return
        }
        let timer = incarnation.timeout(after: settings.handshakeTimeout)
        defer { timer.cancel() }
        var steps = incarnation.steps.makeAsyncIterator()
        let failure: String
        do {
            let (id, params) = try await nextHello(&steps)
            do {
                let manifest = try PluginManifest(params)
                identity.withLock { identity in
                    identity.name = manifest.name
                    identity.dependencies = manifest.dependencies
                    identity.configurationSchema = manifest.configurationSchema
                    identity.logger[metadataKey: "plugin"] = .string(manifest.name)
                }
                state.withLock { $0.discovered = (incarnation, id, params) }
                return
            } catch {
                incarnation.link.send(.error(id: id, error))
                failure = "its hello was refused: \(error.reason)"
            }
        } catch {
            failure = error.description
        }
        await failedHandshake(incarnation, failure)
    }

    public var status: JSON {
        state.withLock { state in
            [
                "file": .string(file),
                "state": .string(state.phase.rawValue),
                "pid": state.pid.map { .int(Int64($0)) } ?? .null,
                "version": state.version.map(JSON.string) ?? .null,
                "restarts": .int(Int64(state.record.restarts)),
                "last_exit": state.lastExit?.json ?? .null,
                "last_reason": state.lastReason.map(JSON.string) ?? .null,
                "next_start_ms": state.nextStartMillis.map { .int($0) } ?? .null,
            ]
        }
    }

    /// The process as `worker.query` lists it (`plugin:<name>`): starting or running is running, restarting is
    /// failed (waiting out its delay), stopped is available.
    public var supervision: WorkerStatus? {
        let name = self.name
        return state.withLock { state in
            let unit: WorkerState
            switch state.phase {
            case .starting, .running: unit = .running
            case .restarting: unit = .failed
            case .quarantined: unit = .quarantined
            case .stopping: unit = .stopping
            case .stopped: unit = .available
            }
            let failed = unit == .failed || unit == .quarantined
            return WorkerStatus(name: "plugin:" + name, plugin: name, description: "the process of \(file)", state: unit,
                                restarts: state.record.restarts, lastError: failed ? state.lastReason : nil, startedAt: nil, kind: .plugin)
        }
    }

    // MARK: - Plugin

    public func setUp(_ context: PluginContext) async throws {
        state.withLock { state in
            state.context = context
            state.stopping = false
            state.record = RestartPolicy.Record()
        }
        let first = await attempt()
        let supervisor = Task { await self.supervise(first) }
        state.withLock { $0.supervisor = supervisor }
    }

    public func tearDown() async {
        let (supervisor, running, discovered) = state.withLock { state in
            state.stopping = true
            defer { state.discovered = nil }
            return (state.supervisor, state.running, state.discovered?.incarnation)
        }
        supervisor?.cancel()
        if let discovered { await discovered.stop(grace: settings.stopGrace, reason: "plugin \(name) is being unloaded") }
        if let running {
            running.link.failAll(CallError(Errno.EAGAIN, "plugin \(name) is stopping"))
            await running.stop(grace: settings.stopGrace, reason: "plugin \(name) is being unloaded")
        }
        await supervisor?.value
        let lines = running?.output.last ?? []
        changePhase(.stopped, reason: "unloaded", exit: running?.exit.value, lines: lines)
        state.withLock { state in
            state.running = nil
            state.pid = nil
            state.active = [:]
            state.handlers = [:]
            state.context = nil
            state.supervisor = nil
        }
    }
}

extension ExternalPlugin {
    /// Stops a process started at discovery that will not be set up (its name is taken, it is disabled, or a
    /// dependency is missing), so that nothing lingers.
    public func release() async {
        let discovered = state.withLock { state in
            defer { state.discovered = nil }
            return state.discovered?.incarnation
        }
        await discovered?.stop(grace: settings.stopGrace, reason: "plugin \(name) is not loaded")
    }
}
