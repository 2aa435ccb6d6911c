/// Why the plugins could not be loaded; the message names the plugins involved.
public struct PluginLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
}

/// Orders plugins so each loads after its dependencies, and loads and unloads them.
public final class PluginLoader: Sendable {
    public let runtime: Runtime
    let loaded: LoadedPlugins

    actor LoadedPlugins {
        var plugins: [(any Plugin, PluginContext)] = []
        func append(_ plugin: any Plugin, _ context: PluginContext) { plugins.append((plugin, context)) }
        func removeAll() -> [(any Plugin, PluginContext)] {
            defer { plugins = [] }
            return plugins
        }
        var names: [String] { plugins.map(\.0.name) }
    }

    public init(runtime: Runtime) {
        self.runtime = runtime
        self.loaded = LoadedPlugins()
    }

    /// Dependency order (depth first, stable by the given order).
    /// - Throws: `PluginLoadError` for a duplicate name, a missing dependency or a cycle.
    public static func order(_ plugins: [any Plugin]) throws(PluginLoadError) -> [any Plugin] {
        var byName: [String: any Plugin] = [:]
        for plugin in plugins {
            if byName[plugin.name] != nil { throw PluginLoadError(description: "plugin '\(plugin.name)' is defined twice") }
            byName[plugin.name] = plugin
        }
        for plugin in plugins {
            for dependency in plugin.dependencies where byName[dependency] == nil {
                throw PluginLoadError(description: "plugin '\(plugin.name)' depends on '\(dependency)', which is missing or not enabled")
            }
        }
        var ordered: [any Plugin] = []
        var done: Set<String> = []
        var path: [String] = []
        func visit(_ name: String) throws(PluginLoadError) {
            if done.contains(name) { return }
            if let start = path.firstIndex(of: name) {
                let cycle = path[start...] + [name]
                throw PluginLoadError(description: "plugin dependency cycle: \(cycle.joined(separator: " -> "))")
            }
            guard let plugin = byName[name] else { return }
            path.append(name)
            for dependency in plugin.dependencies { try visit(dependency) }
            path.removeLast()
            done.insert(name)
            ordered.append(plugin)
        }
        for plugin in plugins { try visit(plugin.name) }
        return ordered
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

    /// Loads the enabled plugins in dependency order, each with its configuration section.
    /// - Parameter configuration: the `plugins` section: `{"<name>": {"enabled": bool, ...}}`.
    public func load(_ plugins: [any Plugin], configuration: JSON = [:]) async throws {
        let enabled = plugins.filter { configuration[$0.name]?["enabled"]?.boolValue ?? true }
        for plugin in try Self.order(enabled) {
            let context = PluginContext(plugin: plugin.name, configuration: configuration[plugin.name] ?? [:], runtime: runtime)
            do {
                try await plugin.setUp(context)
            } catch {
                throw PluginLoadError(description: "plugin '\(plugin.name)' failed to set up: \(error)")
            }
            await loaded.append(plugin, context)
            runtime.logger.debug("plugin loaded", metadata: ["plugin": .string(plugin.name)])
        }
    }

    /// Tears plugins down in reverse order and removes what they registered.
    public func unloadAll() async {
        for (plugin, context) in await loaded.removeAll().reversed() {
            await plugin.tearDown()
            runtime.registry.unregister(plugin: plugin.name, methods: context.registeredMethods)
        }
    }

    public var loadedNames: [String] {
        get async { await loaded.names }
    }
}
