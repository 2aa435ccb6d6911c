import PostgresNIO
import SwitchboardCore

/// Changes with their events. In a cluster (a relay attached) the change runs inside the relay's next batch
/// transaction, so its event row commits with it and after the node's earlier events; otherwise it is one
/// transaction of its own and the event is made from the row it read back.
extension PostgresDatastore {
    public func insert(_ table: SwitchboardCore.TableDefinition, _ row: JSONObject, announcing: ChangeAnnouncement) async throws -> AnnouncedChange {
        // The stored row comes back with the statement: one round trip, not a second read.
        let (sql, values, explicitKey) = try Self.insertStatement(table, row, returning: Self.columnList(table))
        let server = dsn.redacted
        let change = try await announced { connection in
            let inserted: [PostgresRow]
            // Its own savepoint, so that a key clash (the key sequence behind keys written explicitly) can be
            // undone, the sequence moved on and the insert tried once more in the same transaction.
            try await connection.query("SAVEPOINT switchboard_insert", logger: self.logger)
            do {
                inserted = try await self.rows(sql, values, on: connection)
            } catch let error as PSQLError where !explicitKey && Self.isKeyClash(Self.callError(error, server: server), table) {
                try await connection.query("ROLLBACK TO SAVEPOINT switchboard_insert", logger: self.logger)
                let (resync, resyncValues) = Self.resynchronization(table)
                _ = try await self.rows(resync, resyncValues, on: connection)
                inserted = try await self.rows(sql, values, on: connection)
            }
            try await connection.query("RELEASE SAVEPOINT switchboard_insert", logger: self.logger)
            guard let stored = try inserted.first.map({ try Self.decode($0, table) }), let id = stored[table.primaryKey]?.intValue else {
                return nil
            }
            return (id, announcing.make(id, stored))
        }
        guard let change else { throw CallError(Errno.EIO, "The row inserted into \(table.name) was not read back") }
        return change
    }

    public func update(_ table: SwitchboardCore.TableDefinition, id: Int64, _ changes: JSONObject,
                       announcing: ChangeAnnouncement) async throws -> AnnouncedChange? {
        let (sql, values) = try Self.updateStatement(table, id: id, changes, returning: Self.columnList(table))
        return try await announced { connection in
            guard let stored = try await self.rows(sql, values, on: connection).first.map({ try Self.decode($0, table) }) else { return nil }
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

    /// Runs `change` with the relay when there is one (its event then reaches the other nodes with it),
    /// otherwise in a transaction of its own.
    private func announced(_ change: @escaping @Sendable (PostgresConnection) async throws -> (id: Int64, event: Event)?) async throws -> AnnouncedChange? {
        if let relay = relay.withLock({ $0 }) {
            let applied = try await relay.commit { connection in
                try await change(connection).map { PostgresEventRelay.Applied(id: $0.id, events: [$0.event]) }
            }
            guard let applied else { return nil }
            guard let event = applied.events.first else {
                throw CallError(Errno.EIO, "A change committed without the event announcing it")
            }
            return AnnouncedChange(id: applied.id, event: event, relayed: true)
        }
        return try await transaction { connection in
            try await change(connection).map { AnnouncedChange(id: $0.id, event: $0.event, relayed: false) }
        }
    }
}
