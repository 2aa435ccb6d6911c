/// A query answer handed out a fragment at a time, for a client that takes answers in fragments (FreeNAS 10's
/// `streaming_responses`): it asks for each next fragment, so neither side holds the whole result.
///
/// Paged (`init(datastore:...)`): the table is read in primary-key order, `pageSize` rows per datastore read,
/// after the last key handed out, so a stream holds one page whatever the table's size and no cursor stays
/// open between fragments. Each page is turned into client rows and run through the query engine's filters and
/// `select`; `offset` and `limit` are counted across pages. Rows written while a stream is read may or may not
/// appear, as with any keyset paging. Materialized (`init(rows:)`): an answer that had to be computed whole (an
/// order other than by key) is still handed out in fragments.
///
/// Fragments come in the order they are asked for: `next` runs one at a time (an actor).
public actor QueryStream {
    public typealias ClientRows = @Sendable ([JSONObject]) -> [JSON]

    enum Source {
        case table(datastore: any Datastore, table: TableDefinition, pushable: [QueryFilter], filters: [QueryFilter], clientRows: ClientRows)
        case rows([JSON])
    }

    private let source: Source
    private let descending: Bool
    private var select = QueryOptions()
    private let pageSize: Int
    private var toSkip: Int
    private var left: Int?
    private var lastKey: Int64?
    private var position = 0
    private var finished = false

    /// Rows per fragment, and per datastore read.
    public static let defaultPageSize = 500

    /// A paged stream over `table`. `pushable`: the filters the datastore can apply (stored, visible columns);
    /// `filters` and `options` are the whole query, checked with `pages(_:primaryKey:)` first.
    public init(datastore: any Datastore, table: TableDefinition, pushable: [QueryFilter], filters: [QueryFilter], options: QueryOptions,
                pageSize: Int = QueryStream.defaultPageSize, clientRows: @escaping ClientRows) {
        self.source = .table(datastore: datastore, table: table, pushable: pushable, filters: filters, clientRows: clientRows)
        self.descending = options.orderBy.first?.descending ?? false
        self.select.select = options.select
        self.pageSize = max(1, pageSize)
        self.toSkip = options.offset
        self.left = options.limit > 0 ? options.limit : nil
    }

    /// A stream of an answer computed whole.
    public init(rows: [JSON], pageSize: Int = QueryStream.defaultPageSize) {
        self.source = .rows(rows)
        self.descending = false
        self.pageSize = max(1, pageSize)
        self.toSkip = 0
        self.left = nil
    }

    /// The stream a query method offers: nil for an answer that is not a list (`count`, `get`, sent whole),
    /// `paged()` when the options allow it, else the answer computed by `whole()` handed out in fragments.
    public static func offering(_ options: QueryOptions, primaryKey: String, whole: () async throws -> JSON,
                                paged: () -> QueryStream) async throws -> QueryStream? {
        guard !options.count, !options.get else { return nil }
        guard pages(options, primaryKey: primaryKey) else { return QueryStream(rows: try await whole().arrayValue ?? []) }
        return paged()
    }

    /// Whether `options` can be answered page by page: a list (no `count`, no `get`) in key order or none.
    public static func pages(_ options: QueryOptions, primaryKey: String) -> Bool {
        guard !options.count, !options.get else { return false }
        if options.orderBy.isEmpty { return true }
        guard options.orderBy.count == 1, let order = options.orderBy.first else { return false }
        return order.field.simpleName == primaryKey
    }

    /// The next fragment, at most `pageSize` rows and never empty; nil once everything was handed out.
    public func next() async throws -> [JSON]? {
        guard !finished else { return nil }
        switch source {
        case .rows(let rows):
            guard position < rows.count else {
                finished = true
                return nil
            }
            let end = min(rows.count, position + pageSize)
            defer { position = end }
            return Array(rows[position..<end])
        case .table(let datastore, let table, let pushable, let filters, let clientRows):
            var fragment: [JSON] = []
            while fragment.isEmpty {
                if left == 0 {
                    finished = true
                    return nil
                }
                var paged = pushable
                if let lastKey { paged.append(.condition(QueryCondition(field: QueryPath(table.primaryKey), op: descending ? .less : .greater, value: .int(lastKey)))) }
                var options = QueryOptions()
                options.orderBy = [QueryOptions.Order(field: QueryPath(table.primaryKey), descending: descending, nullsFirst: nil)]
                options.limit = pageSize
                let stored = try await datastore.query(table, filters: paged, options: options).arrayValue ?? []
                guard let last = stored.last?[table.primaryKey]?.intValue else {
                    finished = true
                    return nil
                }
                lastKey = last
                let rows = clientRows(stored.compactMap(\.objectValue))
                var matched = try QueryEngine.run(rows, filters: filters, options: select).arrayValue ?? []
                if toSkip > 0 {
                    let skipped = min(toSkip, matched.count)
                    matched.removeFirst(skipped)
                    toSkip -= skipped
                }
                if let remaining = left {
                    if matched.count > remaining { matched.removeLast(matched.count - remaining) }
                    left = remaining - matched.count
                }
                fragment = matched
                if stored.count < pageSize && fragment.isEmpty {
                    finished = true
                    return nil
                }
            }
            return fragment
        }
    }
}
