import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SwitchboardCore
import SwitchboardPlugins
import SwitchboardStore
import Synchronization
import UnixSignals

/// What a started daemon tells whoever started it.
public struct ReadyInfo: Sendable {
    /// The TCP port actually bound (useful with port 0).
    public var port: Int
    public var socketPath: String?
    public var startupMilliseconds: Double
    /// The debug UI's port actually bound; nil when it is off.
    public var frontendPort: Int?
}

/// The whole daemon: instance lock, datastore, plugins, listeners, and an orderly shutdown.
///
/// Startup order (DESIGN.md): lock, datastore and migrations, plugins, listeners, then `ready`.
/// SIGTERM/SIGINT: new calls are refused while the calls in flight get `dispatcher.shutdown-call-grace-seconds`
/// to finish, then the listeners and connections close (what still runs is interrupted), then plugins are torn
/// down and the datastore closed; a second signal skips what is left of the grace. SIGHUP reloads every plugin
/// with the configuration file read again (`plugin.reload_all`).
public final class Daemon: Sendable {
    public let configuration: DaemonConfiguration
    public let logger: Logger
    let plugins: [any Plugin]
    /// Reads the configuration again for a reload; nil reloads with the configuration given at start.
    let reloadConfiguration: (@Sendable () throws -> DaemonConfiguration)?
    private let group = Mutex<ServiceGroup?>(nil)
    private let stopRequested = Mutex(false)
    /// What a stop needs of the running daemon to let its calls in flight finish first; nil until it runs.
    private let draining = Mutex<(runtime: Runtime, control: DaemonControl)?>(nil)
    /// Set by a second stop: the drain stops waiting.
    private let hurried = Mutex(false)

    /// The process's logging when this daemon set it up (the binary does; an embedding test may not): what
    /// SIGUSR1 reopens and `log-level` changes.
    public let logging: DaemonLogging?

    public init(configuration: DaemonConfiguration, logger: Logger, logging: DaemonLogging? = nil, plugins: [any Plugin] = BuiltinPlugins.all,
                reloadConfiguration: (@Sendable () throws -> DaemonConfiguration)? = nil) {
        self.configuration = configuration
        self.logger = logger
        self.logging = logging
        self.plugins = plugins
        self.reloadConfiguration = reloadConfiguration
    }

    /// Runs until a shutdown signal or task cancellation.
    /// - Parameter onReady: called once every listener is bound.
    public func run(onReady: @escaping @Sendable (ReadyInfo) -> Void = { _ in }) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        let configuration = self.configuration
        let logger = self.logger

        try configuration.validate()
        try StartError.createStateFolder(configuration.stateDir)
        if let socketPath = configuration.resolvedSocketPath { try StartError.checkSocketFolder(socketPath) }
        let lock = try InstanceLock(path: (configuration.stateDir as NSString).appendingPathComponent("switchboard.lock"))
        defer { lock.release() }
        if let previous = lock.previousOwner {
            logger.notice("took over the instance lock left by a process that is gone", metadata: ["previous_pid": .string(previous)])
        }
        if let pidfile = configuration.pidfile {
            try "\(getpid())\n".write(toFile: pidfile, atomically: true, encoding: .utf8)
        }
        defer { if let pidfile = configuration.pidfile { try? FileManager.default.removeItem(atPath: pidfile) } }

        // External plugins are started and say who they are before anything is ordered or configured: their
        // names and dependencies join the compiled-in plugins' in one load order.
        let notifier = SystemdNotifier()
        let control = DaemonControl(logging: logging, logger: logger, notifier: notifier)
        let builtIn = self.plugins + [ControlPlugin(control: control), OpenRPCPlugin()]
        let external = try await ExternalPluginDiscovery.discover(settings: configuration.externalPlugins,
                                                                  taken: Set(builtIn.map(\.name)), logger: logger)
        let plugins = builtIn + external
        // Each plugin's section is checked against the schema the plugin declares, before anything is opened.
        if let issue = PluginLoader.configurationIssues(plugins, configuration: configuration.plugins).first {
            for plugin in external { await plugin.release() }
            throw ConfigurationError(path: issue.attribute, reason: issue.message)
        }

        // Read before anything is opened: a bad certificate is a configuration error, not a half-started daemon.
        let tls = configuration.tls ? try TLSSettings.serverConfiguration(configuration) : nil
        try await ListenerProbe.check(host: configuration.listen, port: configuration.websocketPort)
        if let frontendPort = configuration.frontendPort, frontendPort != 0 {
            try await ListenerProbe.check(host: configuration.listen, port: frontendPort)
        }
        let opened = try await DatastoreOpener.open(configuration, logger: logger)
        let (datastore, datastoreLocation, cluster) = (opened.datastore, opened.location, opened.cluster)
        let startedMillis = Session.wallClockMillis
        let metrics = configuration.metrics.enabled ? MetricsExport() : nil
        let runtime = Runtime(datastore: datastore, stateDirectory: configuration.stateDir, logger: logger, jobLimits: configuration.jobs,
                              guardLimits: configuration.guardLimits, sessionLimits: configuration.sessionLimits,
                              auditLimits: configuration.audit, queryMatchSteps: configuration.queryMatchSteps,
                              nodeName: configuration.resolvedNodeName, metricsFactory: metrics?.factory,
                              secretKeyFile: configuration.secretKeyFile, transferLimits: configuration.transfers)
        var pluginsSection: (@Sendable () throws -> JSON)?
        if let read = reloadConfiguration { pluginsSection = { try read().plugins } }
        let loader = PluginLoader(runtime: runtime, plugins: plugins, configurationSource: pluginsSection,
                                  reloadGrace: configuration.pluginReloadGrace)
        control.bind(loader: loader, datastore: datastoreLocation, stop: { [weak self] in await self?.stop() })
        let roster = ClusterRoster(runtime: runtime, membership: opened.membership, this: ClusterNode(
            name: configuration.resolvedNodeName, address: "\(configuration.listen):\(configuration.websocketPort)", version: runtime.version,
            started: startedMillis, lastSeen: startedMillis, state: .up))
        do {
            // Joined before anything can publish: plugins emit from their setUp.
            if let cluster {
                try await cluster.start(deliver: { [events = runtime.events] batch in events.receive(batch) })
                runtime.events.attach(cluster: cluster)
                runtime.jobs.joinCluster(locks: opened.locks)
            }
            try roster.register()
            try await runtime.audit.start()
            try await runtime.jobs.start()
            // After the jobs' start: a node back from a crash fails its own jobs before anyone declares it dead.
            try await roster.join()
            runtime.workers.configure(start: configuration.workers)
            try await loader.load(configuration: configuration.plugins)
            if let missing = runtime.workers.missing.first, let index = configuration.workers?.firstIndex(of: missing) {
                throw ConfigurationError(path: "dispatcher.workers.\(index)", reason: "no loaded plugin declares a worker named '\(missing)'")
            }
        } catch {
            await roster.leave()
            await loader.unloadAll()
            for plugin in external { await plugin.release() }
            if let cluster { await cluster.stop() }
            try? await datastore.close()
            throw error
        }
        // An external plugin left unloaded (disabled, a dependency missing) has no process waiting.
        let loaded = Set(await loader.loadedNames)
        for plugin in external where !loaded.contains(plugin.name) { await plugin.release() }

        let router = Routes.build(runtime: runtime, configuration: configuration, metrics: metrics)
        // RFC 6455: a text message that is not UTF-8 fails the connection (1007); it is never repaired and parsed.
        let webSocket = WebSocketServerConfiguration(maxFrameSize: configuration.maxMessageSize, autoPing: .disabled, validateUTF8: true)
        let listeners = Mutex<(count: Int, port: Int, frontend: Int?)>((0, 0, nil))
        let expected = 1 + (configuration.resolvedSocketPath == nil ? 0 : 1) + (configuration.resolvedControlSocketPath == nil ? 0 : 1)
            + (configuration.frontendPort == nil ? 0 : 1)
        let announce: @Sendable (Int?, Int?) -> Void = { port, frontend in
            let done = listeners.withLock { state -> (Bool, Int, Int?) in
                state.count += 1
                if let port { state.port = port }
                if let frontend { state.frontend = frontend }
                return (state.count == expected, state.port, state.frontend)
            }
            guard done.0 else { return }
            let elapsed = start.duration(to: clock.now)
            let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            logger.info("ready in \(Int(ms.rounded())) ms", metadata: [
                "listen": .string("\(configuration.tls ? "https" : "http")://\(configuration.listen):\(done.1)"), "socket": .string(configuration.resolvedSocketPath ?? "none"),
                "datastore": .string(datastoreLocation),
                "frontend": .string(done.2.map { "\(configuration.tls ? "https" : "http")://\(configuration.listen):\($0)" } ?? "off"),
            ])
            control.ready(status: "listening on \(configuration.tls ? "https" : "http")://\(configuration.listen):\(done.1)")
            onReady(ReadyInfo(port: done.1, socketPath: configuration.resolvedSocketPath, startupMilliseconds: ms, frontendPort: done.2))
        }

        var services: [any Service] = []
        let listenerLogger = ClientFaultLogHandler.wrapping(logger)
        let softLimit = FileDescriptorLimit.raise()
        let tcpCap = FileDescriptorLimit.tcpCap(configured: configuration.maxConnections, local: configuration.maxLocalConnections, softLimit: softLimit)
        if tcpCap < configuration.maxConnections {
            logger.notice("security.max-connections lowered to fit the open file limit",
                          metadata: ["configured": .stringConvertible(configuration.maxConnections), "cap": .stringConvertible(tcpCap),
                                     "open-file-limit": .stringConvertible(softLimit)])
        }
        let counter = ConnectionCounter(limits: .init(maxTCP: tcpCap, maxPerAddress: configuration.maxConnectionsPerAddress,
                                                      maxLocal: configuration.maxLocalConnections))
        let guardSettings = ConnectionGuardHandler.Settings(
            headTimeout: .nanoseconds(configuration.requestHeadTimeout.nanoseconds),
            unauthenticatedMessageSize: min(configuration.maxMessageSizeUnauthenticated, configuration.maxMessageSize),
            maxMessageSize: configuration.maxMessageSize)
        let webSocketResponder = router.buildResponder()
        // A keep-alive HTTP connection idle this long is closed (a WebSocket has its own idle rules).
        let channelConfiguration = HTTP1WebSocketUpgradeChannel.Configuration(http1: .init(idleTimeout: .nanoseconds(configuration.httpIdleTimeout.nanoseconds)), ws: webSocket)
        let guarded: @Sendable (@escaping HTTPChannelHandler.Responder, Bool, ConnectionCounter) -> GuardedChildChannel = { responder, local, counter in
            GuardedChildChannel(base: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder,
                                                                   configuration: channelConfiguration),
                                settings: guardSettings, counter: counter, local: local)
        }
        let apiPort = DebugUIRoutes.APIPort()
        // With TLS the one TCP port serves wss:// and https:// only: a plain client fails its handshake.
        let tcpServer = HTTPServerBuilder { responder -> any ServerChildChannel in
            let channel = guarded(responder, false, counter)
            return try tls.map { try TLSChannel(channel, tlsConfiguration: $0) } ?? channel
        }
        services.append(Application(
            router: router,
            server: tcpServer,
            configuration: .init(address: .hostname(configuration.listen, port: configuration.websocketPort), serverName: "Switchboard"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.websocketPort
                apiPort.set(port)
                announce(port, nil)
            },
            logger: listenerLogger))
        if let frontendPort = configuration.frontendPort {
            // The debug UI (seed 000's port 8180): its pages, and the same WebSocket dialects as the main port
            // (the page connects to its own origin), built as the main port's channels are: the same connection
            // limits and TLS.
            services.append(Application(
                router: DebugUIRoutes.build(apiPort: apiPort),
                server: tcpServer,
                configuration: .init(address: .hostname(configuration.listen, port: frontendPort), serverName: "Switchboard"),
                onServerRunning: { channel in announce(nil, channel.localAddress?.port ?? frontendPort) },
                logger: listenerLogger))
        }
        if let socketPath = configuration.resolvedSocketPath {
            // We hold the instance lock, so a socket file here is a leftover of a dead daemon.
            try? FileManager.default.removeItem(atPath: socketPath)
            services.append(Application(
                router: router,
                server: HTTPServerBuilder { responder in guarded(responder, true, counter) },
                configuration: .init(address: .unixDomainSocket(path: socketPath), serverName: "Switchboard"),
                onServerRunning: { _ in
                    // Anyone may connect and log in; only root and the daemon's user are trusted without a password.
                    chmod(socketPath, 0o666)
                    announce(nil, nil)
                },
                logger: listenerLogger))
        }
        // The control socket has an event loop and a connection pool of its own, so that `switchboard ctl status`
        // answers while clients saturate the others (or use up every local connection).
        let controlLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        if let controlPath = configuration.resolvedControlSocketPath {
            try? FileManager.default.removeItem(atPath: controlPath)
            let controlCounter = ConnectionCounter(limits: .init(maxTCP: 0, maxPerAddress: 0, maxLocal: Self.maxControlConnections))
            services.append(Application(
                router: router,
                server: HTTPServerBuilder { responder in ControlChildChannel(base: guarded(responder, true, controlCounter)) },
                configuration: .init(address: .unixDomainSocket(path: controlPath), serverName: "Switchboard"),
                onServerRunning: { _ in
                    // Bound under the process's umask (022: no one else may write, so no one else may connect),
                    // then narrowed to the daemon's user; the peer check holds whatever the mode.
                    chmod(controlPath, 0o600)
                    announce(nil, nil)
                },
                eventLoopGroupProvider: .shared(controlLoop),
                logger: listenerLogger))
        }
        var groupConfiguration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) } + [.init(service: ShutdownNotice { control.stopping() }, successTerminationBehavior: .ignore)],
            // The signals are the daemon's own (below): the calls in flight get their grace before the group's
            // graceful shutdown closes the connections.
            gracefulShutdownSignals: [],
            logger: logger)
        // Past the grace the listeners are cancelled, which closes every connection still open (one whose
        // client stopped reading would otherwise wait forever to send its close frame).
        groupConfiguration.maximumGracefulShutdownDuration = configuration.connectionCloseGrace
        groupConfiguration.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: groupConfiguration)
        self.group.withLock { $0 = group }
        draining.withLock { $0 = (runtime, control) }
        if stopRequested.withLock({ $0 }) { await group.triggerGracefulShutdown() }
        let terminations = Task { [weak self] in
            for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
                Task { await self?.stop() }
            }
        }
        defer { terminations.cancel() }
        // The watchdog checks every loop that serves clients: the shared group's and the control socket's.
        let watchdog = notifier.flatMap { notifier in
            SystemdWatchdog(notifier: notifier, loops: Array(MultiThreadedEventLoopGroup.singleton.makeIterator()) + Array(controlLoop.makeIterator()),
                            ping: { try await datastore.ping() }, logger: logger)
        }
        let watching = Task { await watchdog?.run() }
        defer { watching.cancel() }
        let sweeper = Task { await runtime.sessions.runSweeper() }
        defer { sweeper.cancel() }
        let auditWriter = Task { await runtime.audit.run() }
        // SIGHUP reloads every plugin (DESIGN.md), one reload at a time; a failure is logged, the daemon goes on.
        let hangups = Task {
            for await _ in await UnixSignalsSequence(trapping: .sighup) {
                logger.notice("SIGHUP received: reloading every plugin")
                do {
                    let reloaded = try await control.reload(nil)
                    logger.notice("plugins reloaded", metadata: ["plugins": .stringConvertible(reloaded.count)])
                } catch {
                    logger.error("plugin reload failed", metadata: ["error": .string("\(error)")])
                }
            }
        }
        defer { hangups.cancel() }
        // SIGUSR1 reopens the log file (logrotate's postrotate), as syslogd and nginx do.
        let reopens = Task { [logging] in
            for await _ in await UnixSignalsSequence(trapping: .sigusr1) {
                do {
                    try logging?.reopen()
                    logger.notice("log file reopened")
                } catch {
                    logger.error("cannot reopen the log file; still writing to the old one", metadata: ["error": .string("\(error)")])
                }
            }
        }
        defer { reopens.cancel() }
        do {
            try await group.run()
        } catch {
            let explained = ListenerProbe.explain(error, host: configuration.listen, port: configuration.websocketPort) ?? error
            logger.error("listener failed: \(explained)")
            try? await controlLoop.shutdownGracefully()
            await shutdown(runtime: runtime, loader: loader, datastore: datastore, cluster: cluster, roster: roster, auditWriter: auditWriter)
            throw explained
        }
        try? await controlLoop.shutdownGracefully()
        await shutdown(runtime: runtime, loader: loader, datastore: datastore, cluster: cluster, roster: roster, auditWriter: auditWriter)
    }

    /// Stops as SIGTERM does: new calls refused, the calls in flight given their grace, then listeners and
    /// connections close, then plugins and the datastore. A second stop cuts the grace short.
    public func stop() async {
        let first = stopRequested.withLock { requested in
            defer { requested = true }
            return !requested
        }
        if !first {
            // The first stop is draining (it polls this every 20 ms) or has triggered the shutdown already; it
            // logs the interruption and goes on, so the order of the log stays that of the stop.
            hurried.withLock { $0 = true }
            return
        }
        if let (runtime, control) = draining.withLock({ $0 }) {
            await Self.drain(runtime, control: control, grace: configuration.callGrace, logger: logger,
                             hurried: { self.hurried.withLock { $0 } })
        }
        if let group = group.withLock({ $0 }) { await group.triggerGracefulShutdown() }
    }

    /// Connections the control socket takes at once: enough for an operator and a few scripts, bounded so that
    /// a runaway script cannot use up the daemon's files through it.
    static let maxControlConnections = 16

    private func shutdown(runtime: Runtime, loader: PluginLoader, datastore: any Datastore, cluster: (any ClusterTransport)?,
                          roster: ClusterRoster, auditWriter: Task<Void, Never>) async {
        logger.info("shutting down")
        // Workers first: they may submit jobs, which then get their grace.
        await runtime.workers.stopAll()
        await runtime.jobs.shutdown()
        await loader.unloadAll()
        // Every audit record queued so far is written before the datastore closes.
        runtime.audit.finish()
        await auditWriter.value
        // The last events (jobs ended, plugins unloaded, this node leaving) reach the other nodes before it goes.
        await roster.leave()
        if let cluster {
            runtime.events.detach()
            await cluster.stop()
        }
        try? await datastore.close()
        if let socketPath = configuration.resolvedSocketPath { try? FileManager.default.removeItem(atPath: socketPath) }
        if let controlPath = configuration.resolvedControlSocketPath { try? FileManager.default.removeItem(atPath: controlPath) }
        logger.info("stopped")
    }
}
