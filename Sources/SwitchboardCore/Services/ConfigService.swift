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
        let (readRoles, writeRoles) = try await context.registerDataService(
            namespace: namespace, kind: .config, description: description, table: table, event: "\(namespace).config",
            eventDescription: "The \(namespace) configuration changed.", entry: entry, readRoles: readRoles, writeRoles: writeRoles)
        let service = self
        let datastore = context.datastore
        try context.register(MethodDescriptor(
            "\(namespace).config", description: "The \(namespace) configuration.", returns: entry,
            roles: readRoles, flags: .readonly
        ) { _, _ in
            .object(try await service.current(datastore))
        })
        try context.register(MethodDescriptor(
            "\(namespace).update", description: "Change the \(namespace) configuration; returns the result.",
            params: [Parameter("\(namespace.replacingOccurrences(".", with: "_"))_update", schema: update)],
            returns: entry, roles: writeRoles
        ) { ctx, args in
            let old = try await service.current(datastore)
            var merged = old
            for (key, value) in args[0].objectValue ?? [:] { merged[key] = value }
            let new = try await service.validate(ctx, old, merged)
            // The event carries what was asked and validated, as before: the stored row may hold hidden columns.
            let eventName = "\(service.namespace).config"
            let announcement = ChangeAnnouncement { id, _ in Event(name: eventName, kind: .changed, id: .int(id), fields: .object(new)) }
            let change: AnnouncedChange?
            if try await datastore.get(service.table, id: Self.rowID) == nil {
                var row = new
                row[service.table.primaryKey] = .int(Self.rowID)
                change = try await datastore.insert(service.table, row, announcing: announcement)
            } else {
                change = try await datastore.update(service.table, id: Self.rowID, new, announcing: announcement)
            }
            if let change { context.announce(change) }
            return .object(new)
        })
    }
}
