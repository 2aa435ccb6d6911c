import PostgresNIO
import Synchronization
import SwitchboardCore

/// Reading and writing rows, with the semantics `Datastore` documents and `SQLiteDatastore` has.
extension PostgresDatastore {
    public func query(_ table: SwitchboardCore.TableDefinition, filters: [QueryFilter], options: QueryOptions) async throws -> JSON {
        let plan = SQLQueryPlan(table, filters: filters, options: options, dialect: .postgresql, columns: Self.columnList(table))
        let rows = try await rows(plan.sql, plan.values)
        if plan.statement == .count {
            return plan.answer(count: try rows.first?.decode(Int64.self) ?? 0)
        }
        return try plan.answer(rows: rows.map { try Self.decode($0, table) })
    }

    public func ping() async throws {
        _ = try await rows("SELECT 1", [])
    }

    public func get(_ table: SwitchboardCore.TableDefinition, id: Int64) async throws -> JSONObject? {
        let sql = "SELECT \(Self.columnList(table)) FROM \(quote(table.name)) WHERE \(quote(table.primaryKey)) = ?"
        return try await rows(sql, [.integer(id)]).first.map { try Self.decode($0, table) }
    }

    public func insert(_ table: SwitchboardCore.TableDefinition, _ row: JSONObject) async throws -> Int64 {
        let (sql, values, explicitKey) = try Self.insertStatement(table, row)
        do {
            return try await rows(sql, values).first?.decode(Int64.self) ?? 0
        } catch let error as CallError where !explicitKey && Self.isKeyClash(error, table) {
            // The key sequence was behind keys written explicitly: move it on and try once more.
            try await resynchronizeKeys(table)
            return try await rows(sql, values).first?.decode(Int64.self) ?? 0
        }
    }

    public func update(_ table: SwitchboardCore.TableDefinition, id: Int64, _ changes: JSONObject) async throws -> Bool {
        let (sql, values) = try Self.updateStatement(table, id: id, changes)
        return try await !rows(sql, values).isEmpty
    }

    public func delete(_ table: SwitchboardCore.TableDefinition, id: Int64) async throws -> Bool {
        let (sql, values) = Self.deleteStatement(table, id: id)
        return try await !rows(sql, values).isEmpty
    }

    /// The INSERT returning the key (or `returning`), and whether the row brings its own key.
    static func insertStatement(_ table: SwitchboardCore.TableDefinition, _ row: JSONObject,
                                returning: String? = nil) throws -> (String, [SQLValue?], Bool) {
        var names: [String] = []
        var values: [SQLValue?] = []
        let explicitKey = row[table.primaryKey]?.intValue
        if let explicitKey {
            names.append(quote(table.primaryKey))
            values.append(.integer(explicitKey))
        }
        for column in table.columns {
            guard let value = row[column.name] else { continue }
            names.append(quote(column.name))
            values.append(try Self.value(value, column.type, table: table.name, column: column.name))
        }
        let key = returning ?? quote(table.primaryKey)
        let sql = names.isEmpty
            ? "INSERT INTO \(quote(table.name)) DEFAULT VALUES RETURNING \(key)"
            : "INSERT INTO \(quote(table.name)) (\(names.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: names.count).joined(separator: ", "))) RETURNING \(key)"
        return (sql, values, explicitKey != nil)
    }

    /// The UPDATE returning a row (`1`, or `returning`) when there was one to change.
    static func updateStatement(_ table: SwitchboardCore.TableDefinition, id: Int64, _ changes: JSONObject,
                                returning: String = "1") throws -> (String, [SQLValue?]) {
        var assignments: [String] = []
        var values: [SQLValue?] = []
        for column in table.columns {
            guard let value = changes[column.name] else { continue }
            assignments.append("\(quote(column.name)) = ?")
            values.append(try Self.value(value, column.type, table: table.name, column: column.name))
        }
        values.append(.integer(id))
        let key = quote(table.primaryKey)
        let sql = assignments.isEmpty
            ? "SELECT \(returning) FROM \(quote(table.name)) WHERE \(key) = ?"
            : "UPDATE \(quote(table.name)) SET \(assignments.joined(separator: ", ")) WHERE \(key) = ? RETURNING \(returning)"
        return (sql, values)
    }

    static func deleteStatement(_ table: SwitchboardCore.TableDefinition, id: Int64) -> (String, [SQLValue?]) {
        ("DELETE FROM \(quote(table.name)) WHERE \(quote(table.primaryKey)) = ? RETURNING 1", [.integer(id)])
    }

    /// A clash on the primary key of a row inserted without one: the key sequence is behind.
    static func isKeyClash(_ error: CallError, _ table: SwitchboardCore.TableDefinition) -> Bool {
        error.errno == Errno.EEXIST && error.extra["column"] == .string(table.primaryKey)
    }

    /// One transaction. Consecutive rows of one shape go out as one multi-row upsert (up to PostgreSQL's
    /// 65,535 parameters), so a journal batch of a thousand job rows is a few statements, not a thousand round
    /// trips; a key seen twice in a run starts a new statement, since one statement may not change a row twice.
    public func commit(_ table: SwitchboardCore.TableDefinition, upserts: [JSONObject], rows: [[JSON]], deletes: [Int64]) async throws {
        guard !upserts.isEmpty || !rows.isEmpty || !deletes.isEmpty else { return }
        let apply = try commitStatements(table, upserts: upserts, rows: rows, deletes: deletes)
        try await transaction { connection in try await apply(connection) }
    }

    /// In a cluster the rows commit inside the relay's next batch transaction, with their events after the
    /// node's earlier ones; otherwise as `commit` without them.
    public func commit(_ table: SwitchboardCore.TableDefinition, upserts: [JSONObject], rows: [[JSON]], deletes: [Int64],
                       announcing events: [Event]) async throws -> Bool {
        guard !events.isEmpty, let relay = relay.withLock({ $0 }) else {
            try await commit(table, upserts: upserts, rows: rows, deletes: deletes)
            return false
        }
        let apply = try commitStatements(table, upserts: upserts, rows: rows, deletes: deletes)
        _ = try await relay.commit { connection in
            try await apply(connection)
            return PostgresEventRelay.Applied(id: 0, events: events)
        }
        return true
    }

    /// The statements of one commit, checked and built before any connection is taken.
    private func commitStatements(_ table: SwitchboardCore.TableDefinition, upserts: [JSONObject], rows: [[JSON]],
                                  deletes: [Int64]) throws -> @Sendable (PostgresConnection) async throws -> Void {
        var batches = UpsertBatches(table: table, datastore: self)
        let everyColumn = Array(repeating: true, count: table.columns.count)
        let types = table.columns.map(\.type)
        for row in rows {
            guard row.count == types.count + 1 else {
                throw CallError(Errno.EINVAL, "A row committed to \(table.name) has \(row.count) values for \(types.count + 1) columns")
            }
            guard case .int(let id) = row[0] else {
                throw CallError(Errno.EINVAL, "A row committed to \(table.name) lacks its \(table.primaryKey)")
            }
            var values: [SQLValue?] = [.integer(id)]
            values.reserveCapacity(row.count)
            for (index, column) in table.columns.enumerated() {
                values.append(try Self.value(row[index + 1], column.type, table: table.name, column: column.name))
            }
            batches.add(id: id, present: everyColumn, values: values)
        }
        for row in upserts {
            guard let id = row[table.primaryKey]?.intValue else {
                throw CallError(Errno.EINVAL, "A row committed to \(table.name) lacks its \(table.primaryKey)")
            }
            var present: [Bool] = []
            present.reserveCapacity(table.columns.count)
            var values: [SQLValue?] = [.integer(id)]
            for column in table.columns {
                let value = row[column.name]
                present.append(value != nil)
                if let value { values.append(try Self.value(value, column.type, table: table.name, column: column.name)) }
            }
            batches.add(id: id, present: present, values: values)
        }
        let statements = batches.finish()
        let deleteSQL = "DELETE FROM \(quote(table.name)) WHERE \(quote(table.primaryKey)) = ANY($1)"
        let doomed = deletes
        let logger = self.logger
        return { connection in
            for statement in statements {
                try await connection.query(statement, logger: logger)
            }
            if !doomed.isEmpty {
                var bindings = PostgresBindings(capacity: 1)
                bindings.append(doomed)
                try await connection.query(PostgresQuery(unsafeSQL: deleteSQL, binds: bindings), logger: logger)
            }
        }
    }

    /// The upsert statement for `count` rows of `table` holding the `present` columns. The one-row text of each
    /// shape is kept (bounded by the tables and row shapes plugins define); a multi-row text is built for its batch.
    func upsertSQL(_ table: SwitchboardCore.TableDefinition, present: [Bool], count: Int) -> String {
        let cacheKey = table.name + ":" + String(present.map { $0 ? "1" : "0" })
        if count == 1, let sql = upsertStatements.withLock({ $0[cacheKey] }) { return sql }
        let key = quote(table.primaryKey)
        let names = [key] + zip(table.columns, present).filter(\.1).map { quote($0.0.name) }
        let updates = names.dropFirst().map { "\($0) = EXCLUDED.\($0)" }
        var tuples: [String] = []
        tuples.reserveCapacity(count)
        var next = 1
        for _ in 0..<count {
            tuples.append("(" + (next..<(next + names.count)).map { "$\($0)" }.joined(separator: ", ") + ")")
            next += names.count
        }
        let sql = "INSERT INTO \(quote(table.name)) (\(names.joined(separator: ", "))) VALUES \(tuples.joined(separator: ", "))"
            + (updates.isEmpty ? " ON CONFLICT (\(key)) DO NOTHING" : " ON CONFLICT (\(key)) DO UPDATE SET \(updates.joined(separator: ", "))")
        if count == 1 { upsertStatements.withLock { $0[cacheKey] = sql } }
        return sql
    }

    /// The primary key, then the columns in definition order: what `decode` reads by position.
    static func columnList(_ table: SwitchboardCore.TableDefinition) -> String {
        SQLiteDatastore.columnList(table)
    }
}
