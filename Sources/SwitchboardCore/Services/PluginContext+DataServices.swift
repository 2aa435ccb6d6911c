/// What a CRUD and a config service register alike, written once: the table, the service, its change event,
/// and the roles of its reads and writes.
extension PluginContext {
    /// Prepares `table`, registers the service and the event type announcing its changes.
    /// - Returns: the roles reads and writes admit: besides the declared ones, the service's own,
    ///   `<PREFIX>_READ` for reads (and `<PREFIX>_WRITE`, which includes it) and `<PREFIX>_WRITE` for writes.
    ///   FULL_ADMIN passes everywhere, READONLY_ADMIN reads everywhere.
    func registerDataService(
        namespace: String, kind: ServiceKind, description: String, table: TableDefinition, event: String, eventDescription: String,
        entry: JSON, readRoles: [String], writeRoles: [String]
    ) async throws -> (read: [String], write: [String]) {
        try await datastore.prepare(table)
        register(ServiceDescriptor(name: namespace, kind: kind, description: description))
        let read = readRoles + Role.read(namespace)
        try register(EventTypeDescriptor(event, description: eventDescription, roles: read, schema: entry, scope: .cluster))
        return (read, writeRoles + Role.write(namespace))
    }
}
