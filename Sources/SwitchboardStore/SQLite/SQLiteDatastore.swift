import Foundation
import GRDB
import Synchronization
import SwitchboardCore

/// The embedded default datastore: one SQLite file in WAL mode, through GRDB's connection pool
/// (one writer, concurrent readers).
public final class SQLiteDatastore: Datastore {
    let pool: DatabasePool
    public let path: String
    /// Upsert SQL by table and column shape; bounded by the tables and row shapes plugins define.
    let upsertStatements = Mutex<[String: String]>([:])
    /// Which per-call statements stay prepared.
    let shapes = StatementShapes()

    /// Opens (creating if needed) the database file and applies the datastore's own migrations.
    /// - Parameter busyTimeout: how long a write waits for another connection's lock on the file.
    public init(path: String, busyTimeout: Duration = .seconds(5)) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(TimeInterval(busyTimeout.components.seconds))
        // Reads run on the threads of Swift's cooperative pool (one per core, see `read`): one reader
        // connection more than there are of them, so a read never waits for a connection.
        configuration.maximumReaderCount = max(5, ProcessInfo.processInfo.activeProcessorCount + 1)
        configuration.prepareDatabase { db in
            // NORMAL is durable across application crashes in WAL mode; only an OS crash or power loss
            // can lose the last transactions, and jobs that need more ask for a checkpoint.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        self.path = path
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw CallError(Errno.EIO, "Cannot open the SQLite datastore at \(path): \(error)")
        }
    }

    /// The datastore's own tables; plugin tables are prepared additively by `prepare(_:)`.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-datastore-meta") { db in
            try db.execute(sql: """
                CREATE TABLE switchboard_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                INSERT INTO switchboard_meta (key, value) VALUES ('created', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
                """)
        }
        return migrator
    }

    public func prepare(_ table: SwitchboardCore.TableDefinition) async throws {
        try Self.checkIdentifiers(table)
        try await write { db in
            if try !db.tableExists(table.name) {
                var definitions = ["\(quote(table.primaryKey)) INTEGER PRIMARY KEY AUTOINCREMENT"]
                for column in table.columns {
                    var definition = "\(quote(column.name)) \(Self.sqlType(column.type))"
                    if !column.defaultValue.isNull { definition += " DEFAULT " + Self.literal(column.defaultValue, column.type) }
                    definitions.append(definition)
                }
                try db.execute(sql: "CREATE TABLE \(quote(table.name)) (\(definitions.joined(separator: ", ")))")
            } else {
                let existing = Set(try db.columns(in: table.name).map(\.name))
                for column in table.columns where !existing.contains(column.name) {
                    var sql = "ALTER TABLE \(quote(table.name)) ADD COLUMN \(quote(column.name)) \(Self.sqlType(column.type))"
                    if !column.defaultValue.isNull {
                        sql += " DEFAULT " + Self.literal(column.defaultValue, column.type)
                    }
                    try db.execute(sql: sql)
                }
            }
            for column in table.columns where column.unique {
                try db.execute(sql: """
                    CREATE UNIQUE INDEX IF NOT EXISTS \(quote("\(table.name)_\(column.name)_unique")) \
                    ON \(quote(table.name)) (\(quote(column.name)))
                    """)
            }
        }
    }

    public func query(_ table: SwitchboardCore.TableDefinition, filters: [QueryFilter], options: QueryOptions) async throws -> JSON {
        let plan = SQLQueryPlan(table, filters: filters, options: options, dialect: .sqlite, columns: Self.columnList(table))
        let arguments = StatementArguments(plan.values.map(\.sqlite))
        let sql = plan.sql
        if plan.statement == .count {
            let total = try await read { db in try Int64.fetchOne(self.shapes.statement(db, sql), arguments: arguments) ?? 0 }
            return plan.answer(count: total)
        }
        let rows = try await read { db in
            try Row.fetchAll(self.shapes.statement(db, sql), arguments: arguments).map { Self.decode($0, table) }
        }
        return try plan.answer(rows: rows)
    }

    public func ping() async throws {
        _ = try await read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    public func get(_ table: SwitchboardCore.TableDefinition, id: Int64) async throws -> JSONObject? {
        let sql = "SELECT \(Self.columnList(table)) FROM \(quote(table.name)) WHERE \(quote(table.primaryKey)) = ?"
        return try await read { db in
            try Row.fetchOne(self.shapes.statement(db, sql), arguments: [id]).map { Self.decode($0, table) }
        }
    }

    public func insert(_ table: SwitchboardCore.TableDefinition, _ row: JSONObject) async throws -> Int64 {
        var names: [String] = []
        var values: [(any DatabaseValueConvertible)?] = []
        if let id = row[table.primaryKey]?.intValue {
            names.append(quote(table.primaryKey))
            values.append(id)
        }
        for column in table.columns {
            guard let value = row[column.name] else { continue }
            names.append(quote(column.name))
            values.append(Self.bind(value, column.type))
        }
        let sql = names.isEmpty
            ? "INSERT INTO \(quote(table.name)) DEFAULT VALUES"
            : "INSERT INTO \(quote(table.name)) (\(names.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: names.count).joined(separator: ", ")))"
        let arguments = StatementArguments(values)
        return try await write { db in
            try self.shapes.statement(db, sql).execute(arguments: arguments)
            return db.lastInsertedRowID
        }
    }

    public func update(_ table: SwitchboardCore.TableDefinition, id: Int64, _ changes: JSONObject) async throws -> Bool {
        var assignments: [String] = []
        var values: [(any DatabaseValueConvertible)?] = []
        for column in table.columns {
            guard let value = changes[column.name] else { continue }
            assignments.append("\(quote(column.name)) = ?")
            values.append(Self.bind(value, column.type))
        }
        values.append(id)
        let sql = assignments.isEmpty
            ? "SELECT 1 FROM \(quote(table.name)) WHERE \(quote(table.primaryKey)) = ?"
            : "UPDATE \(quote(table.name)) SET \(assignments.joined(separator: ", ")) WHERE \(quote(table.primaryKey)) = ?"
        let arguments = StatementArguments(values)
        let empty = assignments.isEmpty
        return try await write { db in
            let statement = try self.shapes.statement(db, sql)
            if empty { return try Row.fetchOne(statement, arguments: arguments) != nil }
            try statement.execute(arguments: arguments)
            return db.changesCount > 0
        }
    }

    public func delete(_ table: SwitchboardCore.TableDefinition, id: Int64) async throws -> Bool {
        let sql = "DELETE FROM \(quote(table.name)) WHERE \(quote(table.primaryKey)) = ?"
        return try await write { db in
            try self.shapes.statement(db, sql).execute(arguments: [id])
            return db.changesCount > 0
        }
    }

    public func commit(_ table: SwitchboardCore.TableDefinition, upserts: [JSONObject], rows: [[JSON]], deletes: [Int64]) async throws {
        guard !upserts.isEmpty || !rows.isEmpty || !deletes.isEmpty else { return }
        // Statements are built here, off the writer; rows with the same columns share one cached statement.
        var statements: [(sql: String, arguments: StatementArguments)] = []
        statements.reserveCapacity(upserts.count + rows.count + deletes.count)
        let key = quote(table.primaryKey)
        if !rows.isEmpty {
            let sql = upsertSQL(table, present: Array(repeating: true, count: table.columns.count))
            let types = table.columns.map(\.type)
            for row in rows {
                guard row.count == types.count + 1 else {
                    throw CallError(Errno.EINVAL, "A row committed to \(table.name) has \(row.count) values for \(types.count + 1) columns")
                }
                guard case .int = row[0] else {
                    throw CallError(Errno.EINVAL, "A row committed to \(table.name) lacks its \(table.primaryKey)")
                }
                // Optional existentials, not [DatabaseValue]: GRDB converts a sequence of a concrete type through
                // a key path built at run time per call (`map(\.databaseValue)` in unspecialized generic code),
                // which cost more than the conversion itself.
                var values: [(any DatabaseValueConvertible)?] = []
                values.reserveCapacity(row.count)
                values.append(Self.bind(row[0], .integer))
                for index in types.indices { values.append(Self.bind(row[index + 1], types[index])) }
                statements.append((sql, StatementArguments(values)))
            }
        }
        for row in upserts {
            guard let id = row[table.primaryKey]?.intValue else {
                throw CallError(Errno.EINVAL, "A row committed to \(table.name) lacks its \(table.primaryKey)")
            }
            var present: [Bool] = []
            present.reserveCapacity(table.columns.count)
            var values: [(any DatabaseValueConvertible)?] = [id]
            for column in table.columns {
                let value = row[column.name]
                present.append(value != nil)
                if let value { values.append(Self.bind(value, column.type)) }
            }
            statements.append((upsertSQL(table, present: present), StatementArguments(values)))
        }
        let deleteSQL = "DELETE FROM \(quote(table.name)) WHERE \(key) = ?"
        for id in deletes { statements.append((deleteSQL, [id])) }
        let batch = statements
        try await write { db in
            // GRDB's cache directly, not `shapes`: these texts come from table definitions (one per column set
            // a writer uses), not from clients, and a batch of journal rows would hash one text per row twice.
            for (sql, arguments) in batch {
                try db.cachedStatement(sql: sql).execute(arguments: arguments)
            }
        }
    }

    /// The upsert statement for rows of `table` holding the `present` columns, built once per shape: job rows
    /// all have one shape, and building it per row cost more than executing it.
    func upsertSQL(_ table: SwitchboardCore.TableDefinition, present: [Bool]) -> String {
        let cacheKey = table.name + ":" + String(present.map { $0 ? "1" : "0" })
        if let sql = upsertStatements.withLock({ $0[cacheKey] }) { return sql }
        let key = quote(table.primaryKey)
        let names = [key] + zip(table.columns, present).filter(\.1).map { quote($0.0.name) }
        let updates = names.dropFirst().map { "\($0) = excluded.\($0)" }
        let sql = "INSERT INTO \(quote(table.name)) (\(names.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: names.count).joined(separator: ", ")))"
            + (updates.isEmpty ? " ON CONFLICT(\(key)) DO NOTHING" : " ON CONFLICT(\(key)) DO UPDATE SET \(updates.joined(separator: ", "))")
        upsertStatements.withLock { $0[cacheKey] = sql }
        return sql
    }

    public func close() async throws {
        try pool.close()
    }

    // MARK: - Errors

    /// Runs a write transaction, turning constraint failures into `CallError`s a client can act on.
    func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch let error as DatabaseError {
            throw Self.callError(error)
        }
    }

    /// Runs one SELECT on a reader connection, on the calling thread.
    ///
    /// GRDB's async read hops three times (to the pool's waiting queue, to the reader's queue, back to the
    /// task) and parks a thread on a semaphore while the readers are busy: for the one-row reads of a typical
    /// call that was most of their cost. A WAL reader never waits for the writer, and there are more reader
    /// connections than threads in the cooperative pool (see `init`), so this runs SQLite's work at once and
    /// never blocks on the pool. Without GRDB's BEGIN/COMMIT around it: a single statement is isolated by
    /// SQLite's own implicit transaction. A read that needs several statements to agree must use `pool.read`.
    func read<T: Sendable>(_ body: (Database) throws -> T) async throws -> T {
        do {
            return try readNow(body)
        } catch let error as DatabaseError {
            throw Self.callError(error)
        }
    }

    /// Not async, so that GRDB's blocking overload is the one called.
    private func readNow<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.unsafeRead(body)
    }

    static func callError(_ error: DatabaseError) -> CallError {
        if error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
            // "UNIQUE constraint failed: users.username"
            let message = error.message ?? ""
            let column = message.split(separator: ".").last.map(String.init) ?? ""
            return CallError(Errno.EEXIST, "An entry with this \(column) already exists", extra: ["column": .string(column)])
        }
        if error.resultCode == .SQLITE_CONSTRAINT {
            return CallError(Errno.EINVAL, "Constraint failed: \(error.message ?? "")")
        }
        return CallError(Errno.EIO, "Datastore error: \(error.message ?? String(describing: error))")
    }

    // MARK: - Values

    static func sqlType(_ type: SwitchboardCore.TableDefinition.ColumnType) -> String {
        switch type {
        case .integer, .boolean: return "INTEGER"
        case .real: return "REAL"
        case .text, .json: return "TEXT"
        }
    }

    static func bind(_ value: JSON, _ type: SwitchboardCore.TableDefinition.ColumnType) -> (any DatabaseValueConvertible)? {
        if type == .json { return value.encodedString() }
        switch value {
        case .null: return nil
        case .bool(let b): return b ? 1 : 0
        case .int(let i): return i
        case .double(let d): return d
        case .string(let s): return s
        case .array, .object: return value.encodedString()
        }
    }

    static func literal(_ value: JSON, _ type: SwitchboardCore.TableDefinition.ColumnType) -> String {
        switch bind(value, type) {
        case let i as Int64: return String(i)
        case let i as Int: return String(i)
        case let d as Double: return String(d)
        case let s as String: return "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
        default: return "NULL"
        }
    }

    /// The primary key, then the columns in definition order: what `decode` reads by position. (Looking
    /// columns up by name in GRDB lowercases and compares strings, per column of every row.)
    static func columnList(_ table: SwitchboardCore.TableDefinition) -> String {
        ([quote(table.primaryKey)] + table.columns.map { quote($0.name) }).joined(separator: ", ")
    }

    /// A row selected with `columnList`.
    static func decode(_ row: Row, _ table: SwitchboardCore.TableDefinition) -> JSONObject {
        var object = JSONObject(minimumCapacity: table.columns.count + 1)
        object[table.primaryKey] = decode(row[0] as DatabaseValue, .integer)
        for (index, column) in table.columns.enumerated() {
            object[column.name] = decode(row[index + 1] as DatabaseValue, column.type)
        }
        return object
    }

    static func decode(_ value: DatabaseValue, _ type: SwitchboardCore.TableDefinition.ColumnType) -> JSON {
        switch value.storage {
        case .null: return .null
        case .int64(let i): return type == .boolean ? .bool(i != 0) : (type == .real ? .double(Double(i)) : .int(i))
        case .double(let d): return .double(d)
        case .string(let s): return type == .json ? ((try? JSON.parse(s)) ?? .string(s)) : .string(s)
        case .blob(let data): return .string(String(decoding: data, as: UTF8.self))
        }
    }

    static func checkIdentifiers(_ table: SwitchboardCore.TableDefinition) throws {
        let names = [table.name, table.primaryKey] + table.columns.map(\.name)
        for name in names where name.isEmpty || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) {
            throw CallError(Errno.EINVAL, "Invalid table or column name '\(name)' in table \(table.name)")
        }
    }
}

/// Quotes an identifier for SQL; names are checked by `checkIdentifiers` and never come from clients.
func quote(_ identifier: String) -> String {
    // Checked names never hold a quote, so the common case skips Foundation's (slow) replacement.
    guard identifier.utf8.contains(UInt8(ascii: "\"")) else { return "\"" + identifier + "\"" }
    return "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
