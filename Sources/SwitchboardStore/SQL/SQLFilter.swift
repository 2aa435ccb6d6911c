import SwitchboardCore

/// Turns query conditions into SQL where SQL gives exactly the query engine's answer, or a superset of it.
///
/// Only conditions on plain columns whose value has the column's type are pushed, and never case-folded
/// ones (SQLite folds ASCII only); the engine re-applies every filter, so what is not pushed is still exact.
/// Both drivers use it, so that what SQL decides cannot differ between them.
enum SQLFilter {
    /// Whether a filter that `translate` pushes selects exactly the engine's rows (not a superset), so that
    /// SQL may also page. Prefix and suffix matches use LIKE, which folds ASCII case: a superset.
    static func isExact(_ filter: QueryFilter) -> Bool {
        guard case .condition(let condition) = filter else { return false }
        switch condition.op {
        case .startsWith, .endsWith: return false
        default: return true
        }
    }

    static func translate(_ filter: QueryFilter, table: SwitchboardCore.TableDefinition,
                          dialect: SQLDialect) -> (String, [SQLValue])? {
        guard case .condition(let condition) = filter, !condition.caseInsensitive, let name = condition.field.simpleName
        else { return nil }
        let type: SwitchboardCore.TableDefinition.ColumnType
        if name == table.primaryKey {
            type = .integer
        } else if let column = table.column(name) {
            type = column.type
        } else {
            return nil
        }
        guard type != .json else { return nil }
        let column = quote(name)

        func value(_ json: JSON) -> SQLValue? {
            switch (type, json) {
            case (.integer, .int(let i)), (.real, .int(let i)): return .integer(i)
            case (.real, .double(let d)): return .real(d)
            // An integer column against a fraction: only SQLite compares the two storage classes exactly.
            case (.integer, .double(let d)) where dialect == .sqlite: return .real(d)
            case (.text, .string(let s)): return .text(s)
            case (.boolean, .bool(let b)): return .boolean(b)
            default: return nil
            }
        }

        switch condition.op {
        case .equal:
            if condition.value.isNull { return ("\(column) IS NULL", []) }
            guard let v = value(condition.value) else { return nil }
            return ("\(column) = ?", [v])
        case .notEqual:
            if condition.value.isNull { return ("\(column) IS NOT NULL", []) }
            guard let v = value(condition.value) else { return nil }
            return ("\(column) \(dialect.distinctFrom) ?", [v])
        case .greater, .greaterOrEqual, .less, .lessOrEqual:
            guard type != .boolean, let v = value(condition.value) else { return nil }
            return ("\(dialect.ordered(column, type)) \(condition.op.rawValue) ?", [v])
        case .in, .notIn:
            guard let list = condition.value.arrayValue else { return nil }
            var values: [SQLValue] = []
            for element in list {
                guard let v = value(element) else { return nil }
                values.append(v)
            }
            if values.isEmpty { return condition.op == .in ? (dialect.never, []) : nil }
            let marks = Array(repeating: "?", count: values.count).joined(separator: ", ")
            return condition.op == .in
                ? ("\(column) IN (\(marks))", values)
                : ("(\(column) IS NULL OR \(column) NOT IN (\(marks)))", values)
        case .startsWith, .endsWith:
            // SQLite's LIKE ignores ASCII case: a superset, which the engine then narrows.
            guard type == .text, case .string(let affix) = condition.value else { return nil }
            let escaped = affix.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_")
            let pattern = condition.op == .startsWith ? escaped + "%" : "%" + escaped
            return ("\(column) LIKE ? ESCAPE '\\'", [.text(pattern)])
        default:
            return nil
        }
    }
}
