/// One plugin as the loader tracks it.
struct PluginEntry: Sendable {
    let plugin: any Plugin
    /// The plugins that depend on it directly.
    let dependents: [String]
    var context: PluginContext?
    var state: PluginState = .unloaded
    var loadedAtMillis: Int64?
    var setUpMilliseconds: Double?
    var lastError: String?

    init(plugin: any Plugin, dependents: [String]) {
        self.plugin = plugin
        self.dependents = dependents
    }

    /// The `plugin.query` row.
    var json: JSON {
        [
            "name": .string(plugin.name),
            "kind": .string(plugin.kind),
            "state": .string(state.rawValue),
            "dependencies": JSON(strings: plugin.dependencies),
            "dependents": JSON(strings: dependents),
            "needs": JSON(strings: plugin.needs.labels),
            "registered": context?.registrations.json ?? PluginRegistrations().json,
            "loaded_at": loadedAtMillis.map { ["$date": .int($0)] } ?? .null,
            "setup_ms": setUpMilliseconds.map { .double(($0 * 1_000).rounded() / 1_000) } ?? .null,
            "last_error": lastError.map(JSON.string) ?? .null,
            "status": plugin.status,
        ]
    }
}
