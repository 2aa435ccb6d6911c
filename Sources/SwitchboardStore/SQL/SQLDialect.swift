import SwitchboardCore

/// Where the two engines spell the same condition differently. Everything else a driver pushes into SQL is
/// written once, in `SQLFilter`, with `?` placeholders (PostgreSQL's driver numbers them).
enum SQLDialect: Sendable {
    case sqlite
    case postgresql

    /// Null-safe inequality: true when exactly one side is null or both differ.
    var distinctFrom: String {
        switch self {
        case .sqlite: return "IS NOT"
        case .postgresql: return "IS DISTINCT FROM"
        }
    }

    /// A condition no row meets (`IN ()`, which neither engine accepts).
    var never: String {
        switch self {
        case .sqlite: return "0"
        case .postgresql: return "FALSE"
        }
    }

    /// How a text column is compared for order: by code point, as the query engine compares strings. SQLite's
    /// default collation is already binary; a PostgreSQL database's collation follows its locale.
    func ordered(_ column: String, _ type: SwitchboardCore.TableDefinition.ColumnType) -> String {
        guard self == .postgresql, type == .text else { return column }
        return column + " COLLATE \"C\""
    }
}
