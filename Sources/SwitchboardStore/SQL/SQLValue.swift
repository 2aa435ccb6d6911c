/// A value bound to a statement, as both drivers understand it: what a query condition pushed into SQL compares
/// a column with. Each driver turns it into its own binding (SQLite stores booleans as 0 and 1).
enum SQLValue: Sendable, Equatable {
    case integer(Int64)
    case real(Double)
    case text(String)
    case boolean(Bool)
}
