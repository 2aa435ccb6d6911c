/// The order plugins load in: each after its dependencies, stable by the order given.
struct PluginOrder {
    /// The plugins that can load, in order.
    var ordered: [any Plugin] = []
    /// Plugins that cannot, with why: a dependency missing or itself unable to load, or a cycle.
    var problems: [String: String] = [:]

    /// - Parameter available: the plugins that may load (enabled); `all` the plugins that exist.
    init(_ available: [any Plugin], all: [any Plugin]) throws(PluginLoadError) {
        var byName: [String: any Plugin] = [:]
        for plugin in all {
            if byName[plugin.name] != nil { throw PluginLoadError(description: "plugin '\(plugin.name)' is defined twice") }
            byName[plugin.name] = plugin
        }
        let availableNames = Set(available.map(\.name))
        var done: Set<String> = []
        var path: [String] = []
        func visit(_ name: String) -> Bool {
            if done.contains(name) { return true }
            if problems[name] != nil { return false }
            if let start = path.firstIndex(of: name) {
                let cycle = (path[start...] + [name]).joined(separator: " -> ")
                for member in path[start...] { problems[member] = "plugin dependency cycle: \(cycle)" }
                return false
            }
            guard let plugin = byName[name] else { return false }
            path.append(name)
            defer { path.removeLast() }
            for dependency in plugin.dependencies {
                if byName[dependency] == nil {
                    problems[name] = "plugin '\(name)' depends on '\(dependency)', which does not exist"
                    return false
                }
                if !availableNames.contains(dependency) {
                    problems[name] = "plugin '\(name)' depends on '\(dependency)', which is not enabled"
                    return false
                }
                if !visit(dependency) {
                    if problems[name] == nil {
                        problems[name] = "plugin '\(name)' depends on '\(dependency)', which cannot load: \(problems[dependency] ?? "")"
                    }
                    return false
                }
            }
            if problems[name] != nil { return false }
            done.insert(name)
            ordered.append(plugin)
            return true
        }
        for plugin in available { _ = visit(plugin.name) }
    }

    /// Every plugin that depends on one of `names`, directly or not, with them, in load order.
    static func closure(of names: Set<String>, in ordered: [any Plugin]) -> [any Plugin] {
        var included = names
        var result: [any Plugin] = []
        for plugin in ordered where included.contains(plugin.name) || plugin.dependencies.contains(where: included.contains) {
            included.insert(plugin.name)
            result.append(plugin)
        }
        return result
    }
}
