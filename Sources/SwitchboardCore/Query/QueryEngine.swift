import Foundation

/// Runs filters and options over rows in memory: the reference semantics of the query language.
///
/// Datastore drivers push what they can into SQL and hand the rest here, so results never depend on
/// where a filter ran.
public enum QueryEngine {
    /// Filters, orders, pages and shapes `rows` as `query(filters, options)` returns them:
    /// a list, an integer for `count`, or one row for `get`.
    /// - Throws: `CallError` ENOENT `MatchNotFound` for `get` without a match; EINVAL for values that cannot be compared.
    /// - Throws: also E2BIG when `~` filters spend more than the task's `MatchBudget`, and
    ///   `CancellationError` when the calling task is cancelled (its client left).
    public static func run(_ rows: [JSON], filters: [QueryFilter], options: QueryOptions) throws -> JSON {
        let budget = MatchBudget()
        var result: [JSON] = []
        for (index, row) in rows.enumerated() {
            if index & 1023 == 1023 { try Task.checkCancellation() }
            if try matches(row, filters, budget: budget) { result.append(row) }
        }
        if options.count && options.offset == 0 && options.limit == 0 { return .int(Int64(result.count)) }
        if !options.orderBy.isEmpty { result = try order(result, by: options.orderBy) }
        if options.offset > 0 { result = Array(result.dropFirst(options.offset)) }
        if options.limit > 0 { result = Array(result.prefix(options.limit)) }
        if options.count { return .int(Int64(result.count)) }
        if !options.select.isEmpty { result = result.map { select($0, options.select) } }
        if options.get {
            guard let first = result.first else { throw CallError(Errno.ENOENT, "MatchNotFound") }
            return first
        }
        return .array(result)
    }

    /// Whether a row passes every filter.
    public static func matches(_ row: JSON, _ filters: [QueryFilter], budget: MatchBudget = MatchBudget()) throws -> Bool {
        for filter in filters where try !matches(row, filter, budget: budget) { return false }
        return true
    }

    static func matches(_ row: JSON, _ filter: QueryFilter, budget: MatchBudget) throws -> Bool {
        switch filter {
        case .or(let branches):
            for branch in branches where try matches(row, branch, budget: budget) { return true }
            return false
        case .condition(let condition):
            if condition.field.hasWildcard {
                // `list.*.x`: true when any element satisfies the condition.
                for value in condition.field.values(in: row) where try test(value, condition, budget: budget) { return true }
                return false
            }
            return try test(condition.field.value(in: row) ?? .null, condition, budget: budget)
        }
    }

    static func test(_ value: JSON, _ condition: QueryCondition, budget: MatchBudget) throws -> Bool {
        let target = condition.value
        let fold = condition.caseInsensitive
        switch condition.op {
        case .equal: return equal(value, target, fold: fold)
        case .notEqual: return !equal(value, target, fold: fold)
        case .greater, .greaterOrEqual, .less, .lessOrEqual:
            // A missing or null field satisfies no ordering comparison (middlewared's behaviour).
            if value.isNull || target.isNull { return false }
            let order = try compare(value, target, field: condition.field, fold: fold)
            switch condition.op {
            case .greater: return order > 0
            case .greaterOrEqual: return order >= 0
            case .less: return order < 0
            default: return order <= 0
            }
        case .in, .notIn:
            let list = target.arrayValue ?? []
            let found = list.contains { equal(value, $0, fold: fold) }
            return condition.op == .in ? found : !found
        case .reverseIn, .reverseNotIn:
            let found: Bool
            switch value {
            case .array(let array): found = array.contains { equal($0, target, fold: fold) }
            case .string(let string):
                guard case .string(let needle) = target else {
                    throw CallError.validation(condition.field.description, "'\(condition.op.rawValue)' on a string field needs a string value")
                }
                found = fold ? string.lowercased().contains(needle.lowercased()) : string.contains(needle)
            case .null: found = false
            default:
                throw CallError.validation(condition.field.description, "'\(condition.op.rawValue)' needs a list or string field, found \(value.typeName)")
            }
            return condition.op == .reverseIn ? found : !found
        case .regex:
            guard case .string(let string) = value, case .string(let pattern) = target else { return false }
            switch PatternCache.shared.compiled(pattern, ignoringCase: fold) {
            case .success(let regex): return try regex.search(string, budget: budget)
            case .failure(let refusal): throw CallError.validation(condition.field.description, "Regular expression refused: \(refusal.reason)")
            }
        case .startsWith, .notStartsWith, .endsWith, .notEndsWith:
            guard case .string(var string) = value, case .string(var affix) = target else {
                return condition.op == .notStartsWith || condition.op == .notEndsWith
            }
            if fold {
                string = string.lowercased()
                affix = affix.lowercased()
            }
            switch condition.op {
            case .startsWith: return string.hasPrefix(affix)
            case .notStartsWith: return !string.hasPrefix(affix)
            case .endsWith: return string.hasSuffix(affix)
            default: return !string.hasSuffix(affix)
            }
        }
    }

    static func equal(_ a: JSON, _ b: JSON, fold: Bool) -> Bool {
        if fold, case .string(let x) = a, case .string(let y) = b { return x.lowercased() == y.lowercased() }
        return a == b
    }

    /// Orders two non-null values of one kind; different kinds are an error, not a silent `false`.
    static func compare(_ a: JSON, _ b: JSON, field: QueryPath, fold: Bool) throws -> Int {
        switch (a, b) {
        case (.int, .int), (.int, .double), (.double, .int), (.double, .double):
            return JSON.compareNumbers(a, b)
        case (.string(let x), .string(let y)):
            let (l, r) = fold ? (x.lowercased(), y.lowercased()) : (x, y)
            return l < r ? -1 : (l > r ? 1 : 0)
        case (.bool(let x), .bool(let y)):
            return x == y ? 0 : (x ? 1 : -1)
        default:
            throw CallError.validation(field.description, "Cannot compare \(a.typeName) with \(b.typeName)")
        }
    }

    /// Sort order across kinds for `order_by`: null < booleans < numbers < strings < others, so mixed
    /// columns still order deterministically instead of failing.
    static func sortKey(_ value: JSON) -> Int {
        switch value {
        case .null: return 0
        case .bool: return 1
        case .int, .double: return 2
        case .string: return 3
        case .array: return 4
        case .object: return 5
        }
    }

    static func order(_ rows: [JSON], by orders: [QueryOptions.Order]) throws -> [JSON] {
        // Decorate once so each comparison does not walk paths again; the sort is stable.
        let keyed = rows.enumerated().map { index, row in (index, row, orders.map { $0.field.value(in: row) ?? .null }) }
        let sorted = keyed.sorted { lhs, rhs in
            for (i, order) in orders.enumerated() {
                let a = lhs.2[i]
                let b = rhs.2[i]
                if a.isNull || b.isNull {
                    if a.isNull && b.isNull { continue }
                    let nullsFirst = order.nullsFirst ?? !order.descending
                    return a.isNull ? nullsFirst : !nullsFirst
                }
                var c = sortKey(a) - sortKey(b)
                if c == 0 {
                    switch (a, b) {
                    case (.array, _), (.object, _): c = a.encodedString() < b.encodedString() ? -1 : (a == b ? 0 : 1)
                    default: c = (try? compare(a, b, field: order.field, fold: false)) ?? 0
                    }
                }
                if c != 0 { return order.descending ? c > 0 : c < 0 }
            }
            return lhs.0 < rhs.0
        }
        return sorted.map(\.1)
    }

    static func select(_ row: JSON, _ selections: [QueryOptions.Selection]) -> JSON {
        var output = JSON.object([:])
        for selection in selections {
            guard let value = selection.field.value(in: row) else { continue }
            if let name = selection.name {
                output = setting(output, [name], value)
            } else {
                let keys = selection.field.components.map { component -> String in
                    if case .key(let k) = component { return k }
                    return "*"
                }
                output = setting(output, keys[...], value)
            }
        }
        return output
    }

    /// Sets a nested key, building intermediate objects: `select: ["a.b"]` returns `{"a":{"b":..}}`.
    static func setting(_ object: JSON, _ keys: ArraySlice<String>, _ value: JSON) -> JSON {
        guard let first = keys.first else { return value }
        var dictionary = object.objectValue ?? [:]
        dictionary[first] = setting(dictionary[first] ?? .object([:]), keys.dropFirst(), value)
        return .object(dictionary)
    }
}
