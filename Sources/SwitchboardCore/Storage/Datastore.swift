/// Durable storage for plugins: tables of JSON rows with an integer primary key.
///
/// Drivers (SQLite, PostgreSQL) live in SwitchboardStore; Core and plugins see only this protocol, so a
/// plugin never writes SQL and runs unchanged on either driver.
public protocol Datastore: Sendable {
    /// Creates the table or adds the columns it lacks.
    func prepare(_ table: TableDefinition) async throws

    /// Rows matching `filters`, as `query(filters, options)` returns them (list, count or one row).
    /// Drivers push what they can into SQL; results are as `QueryEngine` defines them.
    func query(_ table: TableDefinition, filters: [QueryFilter], options: QueryOptions) async throws -> JSON

    /// One row by primary key.
    func get(_ table: TableDefinition, id: Int64) async throws -> JSONObject?

    /// Inserts a row and returns its primary key.
    /// - Throws: `CallError` EEXIST when a unique column clashes.
    func insert(_ table: TableDefinition, _ row: JSONObject) async throws -> Int64

    /// Replaces the given columns of a row; returns false when there is no such row.
    func update(_ table: TableDefinition, id: Int64, _ changes: JSONObject) async throws -> Bool

    /// Deletes a row; returns false when there is no such row.
    func delete(_ table: TableDefinition, id: Int64) async throws -> Bool

    /// Writes whole rows (inserted, or replacing the row with the same primary key) and deletes rows, all in
    /// one transaction: when it returns every change is stored, when it throws none is. This is what group
    /// commit is built on: one transaction for many callers' changes.
    ///
    /// `upserts` name their columns; `rows` give them by position, the primary key first and then every
    /// column in definition order, for writers of many whole rows (the job journal), which then build no
    /// dictionary per row.
    func commit(_ table: TableDefinition, upserts: [JSONObject], rows: [[JSON]], deletes: [Int64]) async throws

    /// `commit`, with `events` stored for the other nodes in the same transaction where the datastore carries
    /// a cluster's events, after the node's events sent before it. Returns whether it did; when it did not (one
    /// node, or not yet in the cluster) the caller sends them as any event. The job journal writes through this,
    /// so a job's row and its event commit together (`Datastore+Announced.swift` gives the two-step default).
    func commit(_ table: TableDefinition, upserts: [JSONObject], rows: [[JSON]], deletes: [Int64], announcing events: [Event]) async throws -> Bool

    /// Inserts a row and makes the event that announces it, in one transaction where the datastore carries
    /// events between nodes (`Datastore+Announced.swift` does it in two steps for those that do not).
    func insert(_ table: TableDefinition, _ row: JSONObject, announcing: ChangeAnnouncement) async throws -> AnnouncedChange

    /// `update` and its event; nil when there is no such row (and no event).
    func update(_ table: TableDefinition, id: Int64, _ changes: JSONObject, announcing: ChangeAnnouncement) async throws -> AnnouncedChange?

    /// `delete` and its event; nil when there is no such row (and no event).
    func delete(_ table: TableDefinition, id: Int64, announcing: ChangeAnnouncement) async throws -> AnnouncedChange?

    /// Reserves `count` ids of the named sequence (`jobs`, `audit`) that no other node sharing the datastore
    /// will use, each above `floor`. A datastore that serves one node hands out the next `count` after `floor`.
    func reserveIDs(_ sequence: String, count: Int64, above floor: Int64) async throws -> ClosedRange<Int64>

    /// Answers a trivial statement: the datastore is reachable and not wedged (systemd's watchdog asks).
    func ping() async throws

    /// Flushes and closes; later calls fail.
    func close() async throws
}

extension Datastore {
    public func commit(_ table: TableDefinition, upserts: [JSONObject], deletes: [Int64]) async throws {
        try await commit(table, upserts: upserts, rows: [], deletes: deletes)
    }
}

extension TableDefinition {
    /// A positional row (primary key, then the columns in order) as a row by name.
    public func object(_ row: [JSON]) -> JSONObject {
        var object = JSONObject(minimumCapacity: columns.count + 1)
        for (name, value) in zip([primaryKey] + columns.map(\.name), row) { object[name] = value }
        return object
    }
}
