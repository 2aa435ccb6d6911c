import PostgresNIO
import SwitchboardCore

/// Groups the rows of one `commit` into multi-row upserts, in the order they were given: consecutive rows of
/// one column shape share a statement until it holds PostgreSQL's parameter limit, or a key it already holds
/// (one statement may not change a row twice, and the later row must win).
struct UpsertBatches {
    /// PostgreSQL's limit on the parameters of one statement.
    static let parameterLimit = 65_535

    let table: SwitchboardCore.TableDefinition
    let datastore: PostgresDatastore
    private var statements: [PostgresQuery] = []
    private var present: [Bool] = []
    private var keys: Set<Int64> = []
    private var values: [SQLValue?] = []
    private var count = 0

    init(table: SwitchboardCore.TableDefinition, datastore: PostgresDatastore) {
        self.table = table
        self.datastore = datastore
    }

    /// - Parameter values: the key, then the value of each present column.
    mutating func add(id: Int64, present shape: [Bool], values row: [SQLValue?]) {
        if count > 0, shape != present || keys.contains(id) || values.count + row.count > Self.parameterLimit {
            flush()
        }
        present = shape
        keys.insert(id)
        values.append(contentsOf: row)
        count += 1
    }

    mutating func finish() -> [PostgresQuery] {
        flush()
        return statements
    }

    private mutating func flush() {
        guard count > 0 else { return }
        let sql = datastore.upsertSQL(table, present: present, count: count)
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            if let value { value.bind(into: &bindings) } else { bindings.appendNull() }
        }
        statements.append(PostgresQuery(unsafeSQL: sql, binds: bindings))
        keys.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        count = 0
    }
}
