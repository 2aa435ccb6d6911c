import Foundation
import PostgresNIO
import SwitchboardCore

/// Column types and values: what SQLite stores for each JSON value (its column affinities), with PostgreSQL's
/// strict types. A value SQLite would keep in another storage class than its column's (a string in an integer
/// column) is refused with the column named, where SQLite would store it as given.
extension PostgresDatastore {
    static func sqlType(_ type: SwitchboardCore.TableDefinition.ColumnType) -> String {
        switch type {
        case .integer: return "BIGINT"
        case .real: return "DOUBLE PRECISION"
        // JSON as its exact text, as SQLite keeps it: JSONB would reorder keys and rewrite numbers.
        case .text, .json: return "TEXT"
        case .boolean: return "BOOLEAN"
        }
    }

    /// The value bound for `json` in a column of `type`; nil is SQL NULL.
    /// - Throws: `CallError` EINVAL naming the table and column.
    static func value(_ json: JSON, _ type: SwitchboardCore.TableDefinition.ColumnType, table: String, column: String) throws(CallError) -> SQLValue? {
        // As SQLite's driver stores JSON columns: the value's text, null included.
        if type == .json { return .text(json.encodedString()) }
        switch (type, json) {
        case (_, .null): return nil
        case (.integer, .int(let i)): return .integer(i)
        case (.integer, .bool(let b)): return .integer(b ? 1 : 0)
        case (.integer, .double(let d)) where d.rounded() == d && abs(d) < 9.2e18: return .integer(Int64(d))
        case (.real, .int(let i)): return .real(Double(i))
        case (.real, .double(let d)): return .real(d)
        case (.real, .bool(let b)): return .real(b ? 1 : 0)
        case (.boolean, .bool(let b)): return .boolean(b)
        case (.boolean, .int(let i)): return .boolean(i != 0)
        // Text affinity: numbers are stored as their text, structures as their JSON.
        case (.text, .string(let s)): return .text(s)
        case (.text, .int(let i)): return .text(String(i))
        case (.text, .double(let d)): return .text(String(d))
        case (.text, .bool(let b)): return .text(b ? "1" : "0")
        case (.text, .array), (.text, .object): return .text(json.encodedString())
        default:
            throw CallError(Errno.EINVAL, "Column \(column) of table \(table) holds \(type.rawValue) values, not \(json.typeName)",
                            extra: ["column": .string(column)])
        }
    }

    /// A default value as an SQL literal, for `CREATE TABLE` and `ADD COLUMN` (where no parameter may be bound).
    static func literal(_ json: JSON, _ type: SwitchboardCore.TableDefinition.ColumnType, table: String, column: String) throws(CallError) -> String {
        switch try value(json, type, table: table, column: column) {
        case .integer(let i): return String(i)
        case .real(let d): return "\(d)::double precision"
        case .text(let s): return "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
        case .boolean(let b): return b ? "TRUE" : "FALSE"
        case nil: return "NULL"
        }
    }

    /// A row selected with `columnList`, by position: the primary key, then the columns in order.
    static func decode(_ row: PostgresRow, _ table: SwitchboardCore.TableDefinition) throws -> JSONObject {
        var object = JSONObject(minimumCapacity: table.columns.count + 1)
        var cells = row.makeIterator()
        guard let key = cells.next() else { return object }
        object[table.primaryKey] = try decode(key, .integer)
        for column in table.columns {
            guard let cell = cells.next() else { break }
            object[column.name] = try decode(cell, column.type)
        }
        return object
    }

    static func decode(_ cell: PostgresCell, _ type: SwitchboardCore.TableDefinition.ColumnType) throws -> JSON {
        guard cell.bytes != nil else { return .null }
        switch type {
        case .integer: return .int(try cell.decode(Int64.self))
        case .real: return .double(try cell.decode(Double.self))
        case .boolean: return .bool(try cell.decode(Bool.self))
        case .text: return .string(try cell.decode(String.self))
        case .json:
            let text = try cell.decode(String.self)
            return (try? JSON.parse(text)) ?? .string(text)
        }
    }
}
