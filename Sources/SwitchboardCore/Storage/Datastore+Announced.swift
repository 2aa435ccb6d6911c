/// Announced changes and id reservations for a datastore that serves one node: the change commits, then its
/// event is made from the row read back; nothing needs to travel with it.
extension Datastore {
    public func insert(_ table: TableDefinition, _ row: JSONObject, announcing: ChangeAnnouncement) async throws -> AnnouncedChange {
        let id = try await insert(table, row)
        let stored = try await get(table, id: id)
        return AnnouncedChange(id: id, event: announcing.make(id, stored), relayed: false)
    }

    public func update(_ table: TableDefinition, id: Int64, _ changes: JSONObject, announcing: ChangeAnnouncement) async throws -> AnnouncedChange? {
        guard try await update(table, id: id, changes), let stored = try await get(table, id: id) else { return nil }
        return AnnouncedChange(id: id, event: announcing.make(id, stored), relayed: false)
    }

    public func delete(_ table: TableDefinition, id: Int64, announcing: ChangeAnnouncement) async throws -> AnnouncedChange? {
        guard try await delete(table, id: id) else { return nil }
        return AnnouncedChange(id: id, event: announcing.make(id, nil), relayed: false)
    }

    public func commit(_ table: TableDefinition, upserts: [JSONObject], rows: [[JSON]], deletes: [Int64],
                       announcing events: [Event]) async throws -> Bool {
        try await commit(table, upserts: upserts, rows: rows, deletes: deletes)
        return false
    }

    public func reserveIDs(_ sequence: String, count: Int64, above floor: Int64) async throws -> ClosedRange<Int64> {
        (floor + 1)...(floor + max(1, count))
    }
}
