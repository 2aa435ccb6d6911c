import PostgresNIO
import SwitchboardCore

/// Changes with their events. In a cluster (a relay attached) the change runs inside the relay's next batch
/// transaction, so its event row commits with it and after the node's earlier events; otherwise it is one
/// transaction of its own and the event is made from the row it read back.
extension PostgresDatastore {
    public func insert(_ table: SwitchboardCore.TableDefinition, _ row: JSONObject, announcing: ChangeAnnouncement) async throws -> AnnouncedChange {
        let (sql, values, explicitKey) = try Self.insertStatement(table, row)
        let server = dsn.redacted
        let change = try await announced { connection in
            let id: Int64
            // Its own savepoint, so that a key clash (the key sequence behind keys written explicitly) can be
            // undone, the sequence moved on and the insert tried once more in the same transaction.
            try await connection.query("SAVEPOINT switchboard_insert", logger: self.logger)
            do {
                id = try await self.rows(sql, values, on: connection).first?.decode(Int64.self) ?? 0
            } catch let error as PSQLError where !explicitKey && Self.isKeyClash(Self.callError(error, server: server), table) {
                try await connection.query("ROLLBACK TO SAVEPOINT switchboard_insert", logger: self.logger)
                let (resync, resyncValues) = Self.resynchronization(table)
                _ = try await self.rows(resync, resyncValues, on: connection)
                id = try await self.rows(sql, values, on: connection).first?.decode(Int64.self) ?? 0
            }
            try await connection.query("RELEASE SAVEPOINT switchboard_insert", logger: self.logger)
            let stored = try await self.get(table, id: id, on: connection)
            return (id, announcing.make(id, stored))
        }
        guard let change else { throw CallError(Errno.EIO, "The row inserted into \(table.name) was not read back") }
        return change
    }

    public func update(_ table: SwitchboardCore.TableDefinition, id: Int64, _ changes: JSONObject,
                       announcing: ChangeAnnouncement) async throws -> AnnouncedChange? {
        let (sql, values) = try Self.updateStatement(table, id: id, changes)
        return try await announced { connection in
            guard try await !self.rows(sql, values, on: connection).isEmpty,
                  let stored = try await self.get(table, id: id, on: connection) else { return nil }
            return (id, announcing.make(id, stored))
        }
    }

    public func delete(_ table: SwitchboardCore.TableDefinition, id: Int64, announcing: ChangeAnnouncement) async throws -> AnnouncedChange? {
        let (sql, values) = Self.deleteStatement(table, id: id)
        return try await announced { connection in
            guard try await !self.rows(sql, values, on: connection).isEmpty else { return nil }
            return (id, announcing.make(id, nil))
        }
    }

    func get(_ table: SwitchboardCore.TableDefinition, id: Int64, on connection: PostgresConnection) async throws -> JSONObject? {
        let (sql, values) = Self.getStatement(table, id: id)
        return try await rows(sql, values, on: connection).first.map { try Self.decode($0, table) }
    }

    /// Runs `change` with the relay when there is one (its event then reaches the other nodes with it),
    /// otherwise in a transaction of its own.
    private func announced(_ change: @escaping @Sendable (PostgresConnection) async throws -> (id: Int64, event: Event)?) async throws -> AnnouncedChange? {
        if let relay = relay.withLock({ $0 }) {
            return try await relay.commit(change)
        }
        return try await transaction { connection in
            try await change(connection).map { AnnouncedChange(id: $0.id, event: $0.event, relayed: false) }
        }
    }
}
