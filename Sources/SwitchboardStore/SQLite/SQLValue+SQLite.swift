import GRDB

extension SQLValue {
    /// The GRDB binding: SQLite has no boolean storage class, so booleans are 1 and 0, as columns store them.
    var sqlite: any DatabaseValueConvertible {
        switch self {
        case .integer(let i): return i
        case .real(let d): return d
        case .text(let s): return s
        case .boolean(let b): return b ? Int64(1) : Int64(0)
        }
    }
}
