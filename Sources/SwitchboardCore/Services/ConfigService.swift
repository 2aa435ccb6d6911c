/// Declares a config service: one entity with `config` and `update`, stored as row 1 of its table,
/// announcing changes as `<namespace>.config` `changed` events.
public struct ConfigService: Sendable {
    public typealias Validate = @Sendable (CallContext, _ old: JSONObject, _ new: JSONObject) async throws -> JSONObject

    public var namespace: String
    public var description: String
    public var table: TableDefinition
    /// Schema of the entity as `config` returns it.
    public var entry: JSON
    /// Schema of `update`'s argument (every key optional).
    public var update: JSON
    /// Values before the first `update`.
    public var defaults: JSONObject
    public var readRoles: [String] = [Role.readonlyAdmin]
    public var writeRoles: [String] = [Role.fullAdmin]
    /// Checks or adjusts the merged entity before it is stored.
    public var validate: Validate = { _, _, new in new }

    public init(namespace: String, description: String = "", table: TableDefinition, entry: JSON, update: JSON, defaults: JSONObject) {
        self.namespace = namespace
        self.description = description
        self.table = table
        self.entry = entry
        self.update = update
        self.defaults = defaults
    }

    static let rowID: Int64 = 1

    func current(_ datastore: any Datastore) async throws -> JSONObject {
        var config = defaults
        if let stored = try await datastore.get(table, id: Self.rowID) {
            for (key, value) in stored where key != table.primaryKey { config[key] = value }
        }
        return config
    }

    public func register(in context: PluginContext) async throws {
        try await context.datastore.prepare(table)
        context.register(ServiceDescriptor(name: namespace, kind: .config, description: description))
        context.events.register(EventTypeDescriptor(
            "\(namespace).config", description: "The \(namespace) configuration changed.", roles: readRoles + Role.read(namespace), schema: entry))
        let service = self
        // Besides the declared roles, the service's own: <PREFIX>_READ for reads (and <PREFIX>_WRITE, which
        // includes it), <PREFIX>_WRITE for writes. FULL_ADMIN passes everywhere, READONLY_ADMIN reads everywhere.
        let readRoles = self.readRoles + Role.read(namespace)
        let writeRoles = self.writeRoles + Role.write(namespace)
        let runtime = context.runtime
        try context.register(MethodDescriptor(
            "\(namespace).config", description: "The \(namespace) configuration.", returns: entry,
            roles: readRoles, flags: .readonly
        ) { _, _ in
            .object(try await service.current(runtime.datastore))
        })
        try context.register(MethodDescriptor(
            "\(namespace).update", description: "Change the \(namespace) configuration; returns the result.",
            params: [Parameter("\(namespace.replacingOccurrences(".", with: "_"))_update", schema: update)],
            returns: entry, roles: writeRoles
        ) { ctx, args in
            let old = try await service.current(runtime.datastore)
            var merged = old
            for (key, value) in args[0].objectValue ?? [:] { merged[key] = value }
            let new = try await service.validate(ctx, old, merged)
            if try await runtime.datastore.get(service.table, id: Self.rowID) == nil {
                var row = new
                row[service.table.primaryKey] = .int(Self.rowID)
                _ = try await runtime.datastore.insert(service.table, row)
            } else {
                _ = try await runtime.datastore.update(service.table, id: Self.rowID, new)
            }
            runtime.events.publish(Event(name: "\(service.namespace).config", kind: .changed, id: .int(Self.rowID), fields: .object(new)))
            return .object(new)
        })
    }
}
