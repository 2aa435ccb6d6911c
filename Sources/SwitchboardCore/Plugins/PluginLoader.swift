import Foundation

/// Loads, unloads and reloads plugins, and knows where each stands (`plugin.query`).
///
/// Loading goes in dependency order; unloading in the reverse. Unloading a plugin first withdraws its methods
/// (new calls get ENOMETHOD, calls in flight finish), then lets its running jobs finish for up to `reloadGrace`
/// and aborts the rest with the reason, then calls its `tearDown`, then withdraws everything else it
/// registered; subscribers of its events get their dialect's end-of-subscription message.
///
/// At start a plugin whose `setUp` throws stops the daemon (it must not serve half configured); one whose
/// dependency is missing, disabled or in a cycle is left unloaded with the reason, and the others load. On a
/// reload the daemon is already serving, so a `setUp` that throws leaves that plugin `failed` (and its
/// dependents unloaded) while the rest keep running. Operations run one at a time.
public actor PluginLoader {
    let runtime: Runtime
    let plugins: [any Plugin]
    /// Reads the `plugins` section of the configuration again, for a reload; nil keeps the one given at start.
    let configurationSource: (@Sendable () throws -> JSON)?
    let reloadGrace: Duration
    /// Every plugin in dependency order; those that cannot be ordered (a missing dependency, a cycle) last.
    /// The plugins are fixed for the daemon's life, so this is worked out once.
    let loadOrder: [String]
    var configuration: JSON = [:]
    var entries: [String: PluginEntry] = [:]
    /// The last operation queued: each waits for the one before, so reloads never interleave.
    private var tail: Task<Void, Never>?

    public init(runtime: Runtime, plugins: [any Plugin], configurationSource: (@Sendable () throws -> JSON)? = nil,
                reloadGrace: Duration = .seconds(30)) {
        self.runtime = runtime
        self.plugins = plugins
        self.configurationSource = configurationSource
        self.reloadGrace = reloadGrace
        let ordered = ((try? PluginOrder(plugins, all: plugins).ordered) ?? []).map(\.name)
        self.loadOrder = ordered + plugins.map(\.name).filter { !ordered.contains($0) }
        for plugin in plugins {
            let dependents = plugins.filter { $0.dependencies.contains(plugin.name) }.map(\.name)
            entries[plugin.name] = PluginEntry(plugin: plugin, dependents: dependents)
        }
    }

    public static let eventName = "plugin.query"

    /// Dependency order of plugins that can all load.
    /// - Throws: `PluginLoadError` for a duplicate name, a missing dependency or a cycle.
    public static func order(_ plugins: [any Plugin]) throws(PluginLoadError) -> [any Plugin] {
        let order = try PluginOrder(plugins, all: plugins)
        if let name = plugins.map(\.name).first(where: { order.problems[$0] != nil }), let problem = order.problems[name] {
            throw PluginLoadError(description: problem)
        }
        return order.ordered
    }

    /// Registers the daemon's own methods (the protocol's `core.*` and `plugin.*`), then loads the enabled
    /// plugins in dependency order, each with its configuration section.
    /// - Parameter configuration: the `plugins` section: `{"<name>": {"enabled": bool, ...}}`.
    /// - Throws: `PluginLoadError` when a plugin's `setUp` throws (the plugins loaded before it stay loaded,
    ///   for `unloadAll`).
    public func load(configuration: JSON = [:]) async throws {
        try CoreProtocol.register(in: runtime)
        try PluginMethods.register(in: runtime, loader: self)
        try WorkerMethods.register(in: runtime, loader: self)
        try RoomMethods.register(in: runtime)
        try await serially { try await self.loadNow(configuration) }
    }

    private func loadNow(_ configuration: JSON) async throws {
        self.configuration = configuration
        try await loadAll(strict: true)
    }

    /// Tears every plugin down in reverse order and withdraws what they registered.
    public func unloadAll() async {
        try? await serially { await self.unloadAllNow() }
    }

    private func unloadAllNow() async {
        for name in loadOrder.reversed() where entries[name]?.state == .loaded {
            await unload(name, reason: "the daemon is stopping", state: .unloaded)
        }
    }

    public var loadedNames: [String] {
        loadOrder.filter { entries[$0]?.state == .loaded }
    }

    /// Reloads the named plugins and every plugin that depends on them (all plugins when `names` is nil), with
    /// the configuration read again.
    /// - Returns: the reloaded plugins' entries, in load order.
    /// - Throws: `CallError` ENOENT for an unknown plugin, EINVAL when the configuration cannot be read or is
    ///   refused (nothing is torn down then), EFAULT when a plugin failed to set up (the others are loaded;
    ///   `extra.plugins` holds every reloaded entry).
    public func reload(_ names: [String]?) async throws -> [JSON] {
        try await serially { try await self.reloadNow(names) }
    }

    private func reloadNow(_ names: [String]?) async throws -> [JSON] {
        if let names {
            for name in names where entries[name] == nil { throw CallError(Errno.ENOENT, "No plugin named \(name)") }
        }
        try readConfiguration()
        let order = loadOrder
        let targets = names.map { Set(PluginOrder.closure(of: Set($0), in: order.compactMap { entries[$0]?.plugin }).map(\.name)) } ?? Set(order)
        for name in order.reversed() where targets.contains(name) && entries[name]?.state == .loaded {
            await unload(name, reason: "plugin \(name) is reloading", state: .unloaded)
        }
        try await loadAll(strict: false, only: targets)
        let result = order.filter(targets.contains).compactMap { entries[$0]?.json }
        if let failed = order.first(where: { targets.contains($0) && entries[$0]?.state == .failed }) {
            throw CallError(Errno.EFAULT, "plugin \(failed) failed to set up: \(entries[failed]?.lastError ?? "")",
                            extra: ["plugins": .array(result)])
        }
        return result
    }

    /// Every plugin's entry, in load order (plugins that cannot load last).
    public var query: [JSON] {
        loadOrder.compactMap { entries[$0]?.json }
    }

    /// The plugins that run as supervised units of their own (external plugins' processes).
    var supervised: [WorkerStatus] {
        loadOrder.compactMap { entries[$0]?.plugin.supervision }
    }

    // MARK: - Inside one operation

    private func readConfiguration() throws {
        guard let configurationSource else { return }
        let fresh: JSON
        do {
            fresh = try configurationSource()
        } catch {
            throw CallError(Errno.EINVAL, "the configuration cannot be read: \(error)")
        }
        if let issue = Self.configurationIssues(plugins, configuration: fresh).first {
            throw CallError(Errno.EINVAL, "the configuration is refused: \(issue.attribute): \(issue.message)",
                            extra: ["attribute": .string(issue.attribute)])
        }
        configuration = fresh
    }

    private func loadAll(strict: Bool, only: Set<String>? = nil) async throws {
        let enabled = plugins.filter { configuration[$0.name]?["enabled"]?.boolValue ?? true }
        let order = try PluginOrder(enabled, all: plugins)
        for plugin in plugins where only?.contains(plugin.name) ?? true {
            if !enabled.contains(where: { $0.name == plugin.name }) {
                change(plugin.name) { $0.state = .disabled; $0.lastError = nil }
            } else if let problem = order.problems[plugin.name] {
                runtime.logger.error("plugin not loaded", metadata: ["plugin": .string(plugin.name), "reason": .string(problem)])
                change(plugin.name) { $0.state = .unloaded; $0.lastError = problem }
            }
        }
        for plugin in order.ordered where only?.contains(plugin.name) ?? true {
            if let blocker = plugin.dependencies.first(where: { entries[$0]?.state != .loaded }) {
                let problem = "plugin '\(plugin.name)' depends on '\(blocker)', which is \(entries[blocker]?.state.rawValue ?? "missing")"
                runtime.logger.error("plugin not loaded", metadata: ["plugin": .string(plugin.name), "reason": .string(problem)])
                change(plugin.name) { $0.state = .unloaded; $0.lastError = problem }
                continue
            }
            try await setUp(plugin, strict: strict)
        }
    }

    private func setUp(_ plugin: any Plugin, strict: Bool) async throws {
        let context = PluginContext(plugin: plugin.name, needs: plugin.needs, configuration: configuration[plugin.name] ?? [:], runtime: runtime)
        let clock = ContinuousClock()
        let start = clock.now
        do {
            try await plugin.setUp(context)
        } catch {
            // What it registered before throwing is withdrawn, so a retry starts clean.
            await withdraw(context, reason: "plugin \(plugin.name) failed to set up")
            if strict { throw PluginLoadError(description: "plugin '\(plugin.name)' failed to set up: \(error)") }
            runtime.logger.error("plugin failed to set up", metadata: ["plugin": .string(plugin.name), "error": .string("\(error)")])
            change(plugin.name) { $0.state = .failed; $0.lastError = "\(error)"; $0.context = nil }
            return
        }
        let elapsed = start.duration(to: clock.now)
        change(plugin.name) { entry in
            entry.state = .loaded
            entry.context = context
            entry.lastError = nil
            entry.loadedAtMillis = Session.wallClockMillis
            entry.setUpMilliseconds = Double(elapsed.components.seconds) * 1_000 + Double(elapsed.components.attoseconds) / 1e15
        }
        runtime.logger.debug("plugin loaded", metadata: ["plugin": .string(plugin.name)])
    }

    private func unload(_ name: String, reason: String, state: PluginState) async {
        guard let entry = entries[name], let context = entry.context else { return }
        // New calls are refused first, so the grace below is spent on what already runs.
        let methods = context.ledger.withLock { $0.methods }
        for method in methods { context.unregister(method: method) }
        let jobs = runtime.jobs.unfinished(methods: Set(methods))
        if !jobs.isEmpty {
            await withTaskGroup(of: Bool.self) { [runtime, reloadGrace] group in
                group.addTask {
                    for id in jobs { _ = try? await runtime.jobs.wait(id) }
                    return true
                }
                group.addTask {
                    try? await Task.sleep(for: reloadGrace)
                    return false
                }
                // Past the grace, what still runs is aborted; the waiting child then sees those jobs end.
                if await group.next() == false {
                    for id in runtime.jobs.unfinished(methods: Set(methods)) {
                        do {
                            _ = try await runtime.jobs.abort(id, credentials: nil, reason: reason)
                        } catch {
                            // A job that declared itself unabortable is never cut off: the unload waits for it.
                            runtime.logger.warning("job cannot be aborted; the plugin's unload waits for it to end",
                                                   metadata: ["job": .stringConvertible(id), "reason": .string(reason)])
                        }
                    }
                }
                group.cancelAll()
            }
        }
        // Its workers stop before it tears down what they use.
        for worker in context.ledger.withLock({ $0.workers }).reversed() { await context.unregister(worker: worker) }
        await entry.plugin.tearDown()
        await withdraw(context, reason: reason)
        change(name) { $0.state = state; $0.context = nil }
    }

    /// Withdraws everything a plugin registered, in the reverse of the order a plugin registers things.
    private func withdraw(_ context: PluginContext, reason: String) async {
        let registered = context.ledger.withLock { $0 }
        for worker in registered.workers.reversed() { await context.unregister(worker: worker) }
        for name in registered.sessionManagers { context.unregister(sessionManager: name) }
        for name in registered.rooms { context.unregister(room: name) }
        for key in registered.routes { context.unregister(route: key) }
        for token in registered.handlers { context.removeHandler(token) }
        for name in registered.eventTypes + registered.eventSources {
            context.unregister(event: name, message: "Event \(name) was withdrawn: \(reason)")
        }
        for method in registered.methods { context.unregister(method: method) }
        for service in registered.services { context.unregister(service: service) }
        for schema in registered.schemas.reversed() {
            do {
                try context.unregister(schema: schema)
            } catch {
                runtime.logger.warning("schema definition kept: another plugin's method still refers to it",
                                       metadata: ["plugin": .string(context.plugin), "schema": .string(schema), "error": .string("\(error)")])
            }
        }
    }

    private func change(_ name: String, _ update: (inout PluginEntry) -> Void) {
        guard var entry = entries[name] else { return }
        let before = entry.state
        update(&entry)
        entries[name] = entry
        if entry.state != before || entry.state == .failed {
            let json = entry.json
            runtime.events.publish(Self.eventName) { Event(name: Self.eventName, kind: .changed, id: .string(name), fields: json) }
        }
    }

    /// Runs `body` after every operation queued before it.
    private func serially<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let previous = tail
        let task = Task<Result<T, any Error>, Never> {
            await previous?.value
            do { return .success(try await body()) } catch { return .failure(error) }
        }
        tail = Task { _ = await task.value }
        return try await task.value.get()
    }

    /// What is wrong with the `plugins` section: a section for a plugin that does not exist, or one that its
    /// plugin's `configurationSchema` refuses. Each issue's attribute is the key's path (`plugins.user.bcrypt_cst`).
    public static func configurationIssues(_ plugins: [any Plugin], configuration: JSON) -> [ValidationIssue] {
        guard case .object(let sections) = configuration else {
            return [ValidationIssue(attribute: "plugins", message: "must be an object")]
        }
        let byName = Dictionary(plugins.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var issues: [ValidationIssue] = []
        for (name, section) in sections {
            guard let plugin = byName[name] else {
                issues.append(ValidationIssue(attribute: "plugins.\(name)",
                                              message: "unknown plugin (known: \(byName.keys.sorted().joined(separator: ", ")))"))
                continue
            }
            var schema = plugin.configurationSchema
            if case .object(var object) = schema {
                var properties = object["properties"]?.objectValue ?? [:]
                properties["enabled"] = ["type": "boolean"]
                object["properties"] = .object(properties)
                schema = .object(object)
            }
            do {
                let known = (schema["properties"]?.objectValue?.keys).map { $0.sorted().joined(separator: ", ") } ?? ""
                issues += try Schema(schema).validate(section, path: "plugins.\(name)").map { issue in
                    // The schema's wording for a key it does not know, in the words of the daemon's own sections.
                    guard issue.message == "Extra inputs are not permitted" else { return issue }
                    return ValidationIssue(attribute: issue.attribute, message: "unknown key (known: \(known))")
                }
            } catch {
                issues.append(ValidationIssue(attribute: "plugins.\(name)", message: "the plugin's configuration schema is invalid: \(error)"))
            }
        }
        return issues
    }
}
