import GRDB
import Synchronization

/// The SQL texts whose prepared statements the connections keep, up to a bound.
///
/// Preparing costs more than running the one-row statements of a typical call: SQLite parses and plans, and
/// GRDB's authorizer works out which tables and columns the statement touches (most of a `user.query`'s
/// time in the datastore). GRDB keeps prepared statements per connection, but never forgets one, and the
/// texts are partly the clients' choice (which filters, which columns, how long an `in` list). So the first
/// `limit` texts seen are kept prepared on every connection that runs them, and any text past that is
/// prepared for its one use: a client that varies its queries costs time, never memory.
final class StatementShapes: Sendable {
    /// A prepared statement is a few KiB per connection (one writer, up to five readers).
    static let limit = 256

    private let known = Mutex<Set<String>>([])

    /// Whether `sql` is, or has just become, one of the kept texts.
    func keeps(_ sql: String) -> Bool {
        known.withLock { known in
            if known.contains(sql) { return true }
            guard known.count < Self.limit else { return false }
            known.insert(sql)
            return true
        }
    }

    var count: Int { known.withLock { $0.count } }

    /// The statement for `sql` on this connection: the kept one, or a fresh one past the bound.
    func statement(_ db: Database, _ sql: String) throws -> Statement {
        keeps(sql) ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
    }
}
