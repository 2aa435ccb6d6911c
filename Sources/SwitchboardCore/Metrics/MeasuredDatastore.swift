import CoreMetrics

/// A datastore whose every operation is timed into `switchboard_datastore_duration_seconds{operation}`: what the
/// runtime is given in place of the driver when metrics are on. The operation names are this type's own, so the
/// series are a fixed nine.
struct MeasuredDatastore: Datastore {
    let base: any Datastore
    let timers: [Operation: Timer]

    enum Operation: String, CaseIterable {
        case prepare, query, get, insert, update, delete, commit, reserveIDs = "reserve_ids", ping
    }

    init(_ base: any Datastore, factory: any MetricsFactory) {
        self.base = base
        var timers: [Operation: Timer] = [:]
        for operation in Operation.allCases {
            timers[operation] = Timer(label: MetricName.datastoreDuration, dimensions: [("operation", operation.rawValue)], factory: factory)
        }
        self.timers = timers
    }

    private func timed<T>(_ operation: Operation, _ body: () async throws -> T) async rethrows -> T {
        let start = ContinuousClock.now
        defer { timers[operation]?.recordNanoseconds(start.duration(to: .now).nanoseconds) }
        return try await body()
    }

    func prepare(_ table: TableDefinition) async throws {
        try await timed(.prepare) { try await base.prepare(table) }
    }

    func query(_ table: TableDefinition, filters: [QueryFilter], options: QueryOptions) async throws -> JSON {
        try await timed(.query) { try await base.query(table, filters: filters, options: options) }
    }

    func get(_ table: TableDefinition, id: Int64) async throws -> JSONObject? {
        try await timed(.get) { try await base.get(table, id: id) }
    }

    func insert(_ table: TableDefinition, _ row: JSONObject) async throws -> Int64 {
        try await timed(.insert) { try await base.insert(table, row) }
    }

    func update(_ table: TableDefinition, id: Int64, _ changes: JSONObject) async throws -> Bool {
        try await timed(.update) { try await base.update(table, id: id, changes) }
    }

    func delete(_ table: TableDefinition, id: Int64) async throws -> Bool {
        try await timed(.delete) { try await base.delete(table, id: id) }
    }

    func commit(_ table: TableDefinition, upserts: [JSONObject], rows: [[JSON]], deletes: [Int64]) async throws {
        try await timed(.commit) { try await base.commit(table, upserts: upserts, rows: rows, deletes: deletes) }
    }

    func commit(_ table: TableDefinition, upserts: [JSONObject], rows: [[JSON]], deletes: [Int64], announcing events: [Event]) async throws -> Bool {
        try await timed(.commit) { try await base.commit(table, upserts: upserts, rows: rows, deletes: deletes, announcing: events) }
    }

    func insert(_ table: TableDefinition, _ row: JSONObject, announcing: ChangeAnnouncement) async throws -> AnnouncedChange {
        try await timed(.insert) { try await base.insert(table, row, announcing: announcing) }
    }

    func update(_ table: TableDefinition, id: Int64, _ changes: JSONObject, announcing: ChangeAnnouncement) async throws -> AnnouncedChange? {
        try await timed(.update) { try await base.update(table, id: id, changes, announcing: announcing) }
    }

    func delete(_ table: TableDefinition, id: Int64, announcing: ChangeAnnouncement) async throws -> AnnouncedChange? {
        try await timed(.delete) { try await base.delete(table, id: id, announcing: announcing) }
    }

    func reserveIDs(_ sequence: String, count: Int64, above floor: Int64) async throws -> ClosedRange<Int64> {
        try await timed(.reserveIDs) { try await base.reserveIDs(sequence, count: count, above: floor) }
    }

    func ping() async throws {
        try await timed(.ping) { try await base.ping() }
    }

    func close() async throws {
        try await base.close()
    }
}
