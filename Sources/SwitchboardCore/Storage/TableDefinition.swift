/// A table a plugin stores rows in; drivers create it and add missing columns at start.
public struct TableDefinition: Sendable, Equatable {
    public enum ColumnType: String, Sendable {
        case integer
        case real
        case text
        case boolean
        /// Any JSON value, stored as its text.
        case json
    }

    public struct Column: Sendable, Equatable {
        public var name: String
        public var type: ColumnType
        public var unique: Bool
        public var nullable: Bool
        /// Value for rows that existed before the column was added.
        public var defaultValue: JSON

        public init(_ name: String, _ type: ColumnType, unique: Bool = false, nullable: Bool = true, default defaultValue: JSON = .null) {
            self.name = name
            self.type = type
            self.unique = unique
            self.nullable = nullable
            self.defaultValue = defaultValue
        }
    }

    public var name: String
    /// An integer primary key, assigned by the datastore when a row is inserted without one.
    public var primaryKey: String
    public var columns: [Column]

    public init(_ name: String, primaryKey: String = "id", columns: [Column]) {
        self.name = name
        self.primaryKey = primaryKey
        self.columns = columns
    }

    public func column(_ name: String) -> Column? { columns.first { $0.name == name } }
}
