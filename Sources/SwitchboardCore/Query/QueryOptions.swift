/// The options argument of `query(filters, options)`.
public struct QueryOptions: Sendable, Equatable {
    public struct Order: Sendable, Equatable {
        public var field: QueryPath
        public var descending: Bool
        /// `nil`: nulls sort as the smallest value (first ascending, last descending), as SQLite does.
        public var nullsFirst: Bool?
    }

    public struct Selection: Sendable, Equatable {
        public var field: QueryPath
        /// Output name; `["field", "alias"]` renames.
        public var name: String?
    }

    public var orderBy: [Order] = []
    public var select: [Selection] = []
    public var count = false
    public var get = false
    public var offset = 0
    public var limit = 0

    public init() {}

    static let knownKeys: Set<String> = [
        "order_by", "select", "count", "get", "offset", "limit",
        // Accepted for middlewared compatibility; they change nothing here.
        "extend", "extend_context", "prefix", "extra", "relationships", "force_sql_filters",
    ]

    /// Parses the options object.
    /// - Throws: `CallError` (EINVAL) naming the bad option.
    public static func parse(_ json: JSON, attribute: String = "options") throws -> QueryOptions {
        var options = QueryOptions()
        guard case .object(let object) = json else {
            if json.isNull { return options }
            throw CallError.validation(attribute, "Options should be an object")
        }
        for key in object.keys where !knownKeys.contains(key) {
            throw CallError.validation("\(attribute).\(key)", "Unknown query option")
        }
        if let orderBy = object["order_by"] {
            guard case .array(let items) = orderBy else {
                throw CallError.validation("\(attribute).order_by", "Should be a list of field names")
            }
            options.orderBy = try items.enumerated().map { index, item in
                guard case .string(var text) = item, !text.isEmpty else {
                    throw CallError.validation("\(attribute).order_by.\(index)", "Should be a field name")
                }
                var nullsFirst: Bool?
                if text.hasPrefix("nulls_first:") {
                    nullsFirst = true
                    text.removeFirst("nulls_first:".count)
                } else if text.hasPrefix("nulls_last:") {
                    nullsFirst = false
                    text.removeFirst("nulls_last:".count)
                }
                var descending = false
                if text.hasPrefix("-") {
                    descending = true
                    text.removeFirst()
                }
                guard !text.isEmpty else {
                    throw CallError.validation("\(attribute).order_by.\(index)", "Should be a field name")
                }
                return Order(field: QueryPath(text), descending: descending, nullsFirst: nullsFirst)
            }
        }
        if let select = object["select"] {
            guard case .array(let items) = select else {
                throw CallError.validation("\(attribute).select", "Should be a list of field names")
            }
            options.select = try items.enumerated().map { index, item in
                switch item {
                case .string(let name) where !name.isEmpty:
                    return Selection(field: QueryPath(name), name: nil)
                case .array(let pair) where pair.count == 2:
                    guard case .string(let name) = pair[0], case .string(let alias) = pair[1], !name.isEmpty, !alias.isEmpty else {
                        fallthrough
                    }
                    return Selection(field: QueryPath(name), name: alias)
                default:
                    throw CallError.validation("\(attribute).select.\(index)", "Should be a field name or [field, alias]")
                }
            }
        }
        for flag in ["count", "get"] {
            guard let value = object[flag] else { continue }
            guard case .bool(let b) = value else {
                throw CallError.validation("\(attribute).\(flag)", "Should be a boolean")
            }
            if flag == "count" { options.count = b } else { options.get = b }
        }
        for number in ["offset", "limit"] {
            guard let value = object[number] else { continue }
            guard case .int(let n) = value, n >= 0, n <= Int64(Int32.max) else {
                throw CallError.validation("\(attribute).\(number)", "Should be a non-negative integer")
            }
            if number == "offset" { options.offset = Int(n) } else { options.limit = Int(n) }
        }
        if options.count && options.get {
            throw CallError.validation("\(attribute).count", "count and get cannot be used together")
        }
        return options
    }
}
