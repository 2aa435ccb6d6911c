import SwitchboardCore

/// A datastore that stores nothing, for a runtime whose tests read only the registry and the plugins.
public final class NullDatastore: Datastore {
    public init() {}
    public func prepare(_ table: TableDefinition) async throws {}
    public func query(_ table: TableDefinition, filters: [QueryFilter], options: QueryOptions) async throws -> JSON { [] }
    public func get(_ table: TableDefinition, id: Int64) async throws -> JSONObject? { nil }
    public func insert(_ table: TableDefinition, _ row: JSONObject) async throws -> Int64 { 1 }
    public func update(_ table: TableDefinition, id: Int64, _ changes: JSONObject) async throws -> Bool { false }
    public func delete(_ table: TableDefinition, id: Int64) async throws -> Bool { false }
    public func commit(_ table: TableDefinition, upserts: [JSONObject], rows: [[JSON]], deletes: [Int64]) async throws {}
    public func ping() async throws {}
    public func close() async throws {}
}
