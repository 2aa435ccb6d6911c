import Synchronization

/// The datastore as one plugin sees it: only the tables it declared with `prepare`.
///
/// A plugin that reads another plugin's table (the auth plugin reads users) declares it too, with the same
/// definition; `plugin.query` lists the tables each plugin declared, so who touches what is visible. The
/// daemon's own tables (jobs, audit) are reached through `jobs` and `auditTrail()`, never here, and a plugin
/// cannot close the datastore.
public final class PluginDatastore: Datastore {
    let plugin: String
    let base: any Datastore
    private let declared = Mutex<[String]>([])

    init(plugin: String, base: any Datastore) {
        self.plugin = plugin
        self.base = base
    }

    var tables: [String] { declared.withLock { $0 } }

    /// Declares the table: creates it, or adds the columns it lacks.
    /// - Throws: `CallError` EACCES for a table of the daemon's own (`jobs`, `audit`).
    public func prepare(_ table: TableDefinition) async throws {
        if Self.reserved.contains(table.name) {
            throw CallError(Errno.EACCES, "Table \(table.name) belongs to the daemon; plugin \(plugin) cannot declare it")
        }
        try await base.prepare(table)
        declared.withLock { if !$0.contains(table.name) { $0.append(table.name) } }
    }

    public func query(_ table: TableDefinition, filters: [QueryFilter], options: QueryOptions) async throws -> JSON {
        try check(table)
        return try await base.query(table, filters: filters, options: options)
    }

    public func get(_ table: TableDefinition, id: Int64) async throws -> JSONObject? {
        try check(table)
        return try await base.get(table, id: id)
    }

    public func insert(_ table: TableDefinition, _ row: JSONObject) async throws -> Int64 {
        try check(table)
        return try await base.insert(table, row)
    }

    public func update(_ table: TableDefinition, id: Int64, _ changes: JSONObject) async throws -> Bool {
        try check(table)
        return try await base.update(table, id: id, changes)
    }

    public func ping() async throws {
        try await base.ping()
    }

    public func delete(_ table: TableDefinition, id: Int64) async throws -> Bool {
        try check(table)
        return try await base.delete(table, id: id)
    }

    public func commit(_ table: TableDefinition, upserts: [JSONObject], rows: [[JSON]], deletes: [Int64]) async throws {
        try check(table)
        try await base.commit(table, upserts: upserts, rows: rows, deletes: deletes)
    }

    public func commit(_ table: TableDefinition, upserts: [JSONObject], rows: [[JSON]], deletes: [Int64],
                       announcing events: [Event]) async throws -> Bool {
        try check(table)
        return try await base.commit(table, upserts: upserts, rows: rows, deletes: deletes, announcing: events)
    }

    public func insert(_ table: TableDefinition, _ row: JSONObject, announcing: ChangeAnnouncement) async throws -> AnnouncedChange {
        try check(table)
        return try await base.insert(table, row, announcing: announcing)
    }

    public func update(_ table: TableDefinition, id: Int64, _ changes: JSONObject, announcing: ChangeAnnouncement) async throws -> AnnouncedChange? {
        try check(table)
        return try await base.update(table, id: id, changes, announcing: announcing)
    }

    public func delete(_ table: TableDefinition, id: Int64, announcing: ChangeAnnouncement) async throws -> AnnouncedChange? {
        try check(table)
        return try await base.delete(table, id: id, announcing: announcing)
    }

    /// Sequences are the daemon's (jobs, audit): a plugin numbers its rows through its tables' keys.
    public func reserveIDs(_ sequence: String, count: Int64, above floor: Int64) async throws -> ClosedRange<Int64> {
        throw CallError(Errno.EACCES, "plugin \(plugin) cannot reserve ids of the daemon's sequence \(sequence)")
    }

    /// The daemon closes the datastore; a plugin may not.
    public func close() async throws {
        throw CallError(Errno.EPERM, "plugin \(plugin) cannot close the datastore")
    }

    static let reserved: Set<String> = [JobRecord.table.name, AuditLog.table.name]

    private func check(_ table: TableDefinition) throws(CallError) {
        guard declared.withLock({ $0.contains(table.name) }) else {
            throw CallError(Errno.EACCES, "plugin \(plugin) did not declare table \(table.name) (call datastore.prepare first)")
        }
    }
}
