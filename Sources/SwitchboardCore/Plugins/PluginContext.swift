import Logging
import Synchronization

/// What a plugin is given: its configuration section and logger, and the narrow ways to offer things and to
/// use the daemon. It is the whole plugin API: a plugin never sees the runtime, so a compiled-in plugin can do
/// nothing an external one (speaking the same API over a pipe) could not.
///
/// - Registering: `register`/`unregister` for services, methods and job methods, event types, event sources,
///   event handlers (`onEvent`), schema definitions and HTTP routes. Everything registered is recorded against
///   the plugin and withdrawn when it is unloaded or reloaded (see `PluginLoader`).
/// - Using: `emit`, `call` (as the daemon; `CallContext.call` calls with a caller's credentials), `jobs`,
///   `datastore` (the tables the plugin declares with `prepare`), `registry` (what is offered, read only),
///   `daemon` (version, start time, state folder).
/// - Only when declared in `Plugin.needs`: `sessions()`, `loginGuard()`, `auditTrail()`.
public final class PluginContext: Sendable {
    public let plugin: String
    /// The plugin's section of the configuration file (`plugins.<name>`), `{}` when absent.
    public let configuration: JSON
    public let logger: Logger
    /// The tables this plugin declared (`prepare`), and only those.
    public let datastore: PluginDatastore
    /// Submitting, querying, waiting on and aborting jobs.
    public let jobs: PluginJobs
    /// What the daemon offers now: services, methods, event types, schema definitions.
    public let registry: RegistryView
    public let daemon: DaemonInfo

    let runtime: Runtime
    let needs: PluginNeeds
    let ledger = Mutex(PluginRegistrations())

    init(plugin: String, needs: PluginNeeds, configuration: JSON, runtime: Runtime) {
        self.plugin = plugin
        self.needs = needs
        self.configuration = configuration
        self.runtime = runtime
        var logger = runtime.logger
        logger[metadataKey: "plugin"] = .string(plugin)
        self.logger = logger
        self.datastore = PluginDatastore(plugin: plugin, base: runtime.datastore)
        self.jobs = PluginJobs(manager: runtime.jobs)
        self.registry = RegistryView(runtime: runtime)
        self.daemon = DaemonInfo(version: runtime.version, startedAt: runtime.startedAt, stateDirectory: runtime.stateDirectory,
                                 nodeName: runtime.nodeName, secretKeyFile: runtime.secretKeyFile)
    }

    /// What this plugin registered so far.
    var registrations: PluginRegistrations {
        var registrations = ledger.withLock { $0 }
        registrations.tables = datastore.tables
        return registrations
    }

    // MARK: - Services and methods

    public func register(_ service: ServiceDescriptor) {
        var service = service
        service.plugin = plugin
        runtime.registry.register(service)
        ledger.withLock { if !$0.services.contains(service.name) { $0.services.append(service.name) } }
    }

    public func unregister(service name: String) {
        guard ledger.withLock({ $0.drop(name, from: \.services) }) else { return }
        runtime.registry.unregister(service: name)
    }

    /// Registers a method or a job method (`MethodDescriptor.job`).
    /// - Throws: `CallError` EEXIST when the name is taken, EINVAL when a schema names an unknown definition.
    public func register(_ method: MethodDescriptor) throws {
        try runtime.registry.register(method)
        ledger.withLock { $0.methods.append(method.name) }
    }

    /// Withdraws a method: calls in flight finish, new ones get ENOMETHOD.
    public func unregister(method name: String) {
        guard ledger.withLock({ $0.drop(name, from: \.methods) }) else { return }
        runtime.registry.unregister(method: name)
    }

    // MARK: - Schema definitions

    /// Registers a named schema definition (`register_schema_definition`) that method schemas refer to as
    /// `{"$ref": "#/components/schemas/<name>"}`; register it before the methods that use it.
    /// - Throws: `CallError` EINVAL for a bad name or schema, EEXIST when the name is taken.
    public func register(schema name: String, _ schema: JSON) throws {
        try runtime.registry.register(definition: name, schema: schema, plugin: plugin)
        ledger.withLock { $0.schemas.append(name) }
    }

    /// - Throws: `CallError` EBUSY while a method or another definition refers to it.
    public func unregister(schema name: String) throws {
        guard ledger.withLock({ $0.schemas.contains(name) }) else { return }
        try runtime.registry.unregister(definition: name)
        ledger.withLock { _ = $0.drop(name, from: \.schemas) }
    }

    // MARK: - HTTP routes

    /// - Throws: `CallError` EINVAL for a path outside `/plugins/<plugin>/`, EEXIST when the route is taken.
    public func register(_ route: HTTPRouteDescriptor) throws {
        try runtime.httpRoutes.register(route, plugin: plugin)
        ledger.withLock { $0.routes.append(route.key) }
    }

    public func unregister(route key: HTTPRouteKey) {
        guard ledger.withLock({ $0.drop(key, from: \.routes) }) else { return }
        runtime.httpRoutes.unregister(key)
    }

    // MARK: - Calling

    /// Calls a method as the daemon itself (full rights). To act for a client, call through the method's
    /// `CallContext` (`ctx.call`), which carries the client's credentials and never more.
    public func call(_ method: String, _ params: [JSON] = []) async throws -> JSON {
        try await runtime.callInternal(method, params)
    }

    // MARK: - Declared needs

    /// Every open session, and terminating one. Needs `.sessions`.
    public func sessions() throws -> SessionControl {
        try require(.sessions)
        return SessionControl(directory: runtime.sessions)
    }

    /// The login guard: counting logins, reading and lifting lockouts. Needs `.loginGuard`.
    public func loginGuard() throws -> ClientGuard {
        try require(.loginGuard)
        return runtime.clientGuard
    }

    /// Reading the audit trail. Needs `.auditTrail`.
    public func auditTrail() throws -> AuditTrail {
        try require(.auditTrail)
        return AuditTrail(log: runtime.audit, datastore: runtime.datastore)
    }

    /// Every plugin's workers: listing, starting, stopping. Needs `.workers`.
    public func workers() throws -> WorkerSupervisor {
        try require(.workers)
        return runtime.workers
    }

    private func require(_ need: PluginNeeds) throws(CallError) {
        guard needs.contains(need) else {
            throw CallError(Errno.EPERM, "plugin \(plugin) did not declare the need \(need.labels.joined()) (Plugin.needs)")
        }
    }

    /// Every role a user or key can be granted: the built-in ones and each role a registered method or event type
    /// admits (`AUTHENTICATED` is a pseudo-role of every session, never granted). Read it when granting, so that
    /// a typo (`FULL_ADMN`) is refused rather than stored as a role nothing admits.
    public var knownRoles: Set<String> { registry.knownRoles }
}
