import SwitchboardCore

/// What a `query` asks of SQL and what is left for the query engine, written once for both drivers so that
/// they cannot answer differently: the same conditions pushed, the same paging decided in SQL, the same
/// engine rules for the rest. Statements use `?` placeholders (the PostgreSQL driver numbers them).
struct SQLQueryPlan {
    enum Statement {
        /// `SELECT COUNT(*)`: the answer is what is left after offset, at most limit.
        case count
        /// The page itself: the rows are the answer, to be shaped (select) only.
        case page
        /// Every candidate row, ordered by primary key: the engine filters, orders, pages and shapes.
        case all
    }

    let statement: Statement
    let sql: String
    let values: [SQLValue]
    let table: SwitchboardCore.TableDefinition
    let filters: [QueryFilter]
    let options: QueryOptions

    /// - Parameter columns: the select list, the primary key first (what each driver decodes by position).
    init(_ table: SwitchboardCore.TableDefinition, filters: [QueryFilter], options: QueryOptions, dialect: SQLDialect, columns: String) {
        self.table = table
        self.filters = filters
        self.options = options
        var clauses: [String] = []
        var values: [SQLValue] = []
        for filter in filters {
            guard let (clause, bound) = SQLFilter.translate(filter, table: table, dialect: dialect) else { continue }
            clauses.append(clause)
            values.append(contentsOf: bound)
        }
        let whereSQL = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
        let name = quote(table.name)
        if let paged = Self.pagedInSQL(table, filters: filters, translated: clauses.count, options: options) {
            // SQL decides the whole answer: an audit trail or job table of a million rows is never read whole.
            if options.count {
                statement = .count
                sql = "SELECT COUNT(*) FROM \(name)" + whereSQL
            } else {
                statement = .page
                // LIMIT and OFFSET as arguments: one text, one kept statement, for every page of a query.
                var text = "SELECT \(columns) FROM \(name)" + whereSQL
                    + " ORDER BY \(quote(table.primaryKey))\(paged.descending ? " DESC" : "")"
                if paged.limit >= 0 || dialect == .sqlite {
                    // SQLite reads LIMIT -1 as none; PostgreSQL refuses a negative one.
                    text += " LIMIT ?"
                    values.append(.integer(Int64(paged.limit)))
                }
                text += " OFFSET ?"
                values.append(.integer(Int64(options.offset)))
                sql = text
            }
        } else {
            statement = .all
            sql = "SELECT \(columns) FROM \(name)" + whereSQL + " ORDER BY \(quote(table.primaryKey))"
        }
        self.values = values
    }

    /// The answer to a `.count` statement from the number SQL counted.
    func answer(count total: Int64) -> JSON {
        // As the engine counts: what is left of the matches after offset, at most limit.
        let afterOffset = max(0, total - Int64(options.offset))
        return .int(options.limit > 0 ? min(afterOffset, Int64(options.limit)) : afterOffset)
    }

    /// The answer to a `.page` or `.all` statement from its rows.
    func answer(rows: [JSONObject]) throws -> JSON {
        switch statement {
        case .page:
            var rest = options
            rest.orderBy = []
            rest.offset = 0
            rest.limit = 0
            return try QueryEngine.run(rows.map { .object($0) }, filters: [], options: rest)
        case .all, .count:
            // What SQL did not decide, and ordering, paging and shaping, follow the query engine's rules exactly.
            return try QueryEngine.run(rows.map { .object($0) }, filters: filters, options: options)
        }
    }

    /// Whether SQL alone gives the query's exact answer with its paging: every filter pushed exactly, and an
    /// order on the primary key alone (or none); then the page size (`limit`, 1 for `get`) and direction.
    static func pagedInSQL(_ table: SwitchboardCore.TableDefinition, filters: [QueryFilter], translated: Int,
                           options: QueryOptions) -> (limit: Int, descending: Bool)? {
        guard translated == filters.count, filters.allSatisfy(SQLFilter.isExact) else { return nil }
        guard options.count || options.get || options.limit > 0 || options.offset > 0 else { return nil }
        var descending = false
        if let order = options.orderBy.first {
            guard options.orderBy.count == 1, order.field.simpleName == table.primaryKey else { return nil }
            descending = order.descending
        }
        let limit = options.get ? 1 : (options.limit > 0 ? options.limit : -1)
        return (limit, descending)
    }
}
