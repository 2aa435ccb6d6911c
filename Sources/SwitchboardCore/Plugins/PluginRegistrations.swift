/// What one plugin registered, so that unloading it withdraws exactly that (and `plugin.query` can show it).
struct PluginRegistrations: Sendable {
    var services: [String] = []
    var methods: [String] = []
    var eventTypes: [String] = []
    var eventSources: [String] = []
    var handlers: [EventBus.Token] = []
    var schemas: [String] = []
    var routes: [HTTPRouteKey] = []
    var tables: [String] = []
    var workers: [String] = []
    var rooms: [String] = []
    var sessionManagers: [String] = []

    /// Forgets `value` in one of the lists; false when it was not there (not this plugin's).
    mutating func drop<T: Equatable>(_ value: T, from list: WritableKeyPath<PluginRegistrations, [T]>) -> Bool {
        let count = self[keyPath: list].count
        self[keyPath: list].removeAll { $0 == value }
        return self[keyPath: list].count < count
    }

    var json: JSON {
        [
            "services": JSON(strings: services), "methods": JSON(strings: methods), "event_types": JSON(strings: eventTypes),
            "event_sources": JSON(strings: eventSources), "event_handlers": .int(Int64(handlers.count)),
            "schemas": JSON(strings: schemas), "http_routes": JSON(strings: routes.map(\.description)), "tables": JSON(strings: tables),
            "workers": JSON(strings: workers), "rooms": JSON(strings: rooms), "session_managers": JSON(strings: sessionManagers),
        ]
    }
}
