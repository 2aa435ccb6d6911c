import SwitchboardCore

/// A datastore for a runtime that stores nothing: the mapping reads only the registry.
final class NoDatastore: Datastore {
    func prepare(_ table: TableDefinition) async throws {}
    func query(_ table: TableDefinition, filters: [QueryFilter], options: QueryOptions) async throws -> JSON { [] }
    func get(_ table: TableDefinition, id: Int64) async throws -> JSONObject? { nil }
    func insert(_ table: TableDefinition, _ row: JSONObject) async throws -> Int64 { 1 }
    func update(_ table: TableDefinition, id: Int64, _ changes: JSONObject) async throws -> Bool { false }
    func delete(_ table: TableDefinition, id: Int64) async throws -> Bool { false }
    func commit(_ table: TableDefinition, upserts: [JSONObject], rows: [[JSON]], deletes: [Int64]) async throws {}
    func close() async throws {}
}
