/// A parsed query filter: middlewared's `[field, op, value]` triples, combined with `["OR", [...]]`.
///
/// ```swift
/// let filters = try QueryFilter.parseList([["username", "^", "adm"], ["OR", [["uid", "=", 0], ["locked", "=", false]]]])
/// ```
public indirect enum QueryFilter: Sendable, Equatable {
    case condition(QueryCondition)
    /// Matches when any branch matches; a branch is a list of filters that must all match.
    case or([[QueryFilter]])
}

public struct QueryCondition: Sendable, Equatable {
    public var field: QueryPath
    public var op: QueryOperator
    public var value: JSON
    /// The `C` prefix: string comparisons ignore case.
    public var caseInsensitive: Bool

    public init(field: QueryPath, op: QueryOperator, value: JSON, caseInsensitive: Bool = false) {
        self.field = field
        self.op = op
        self.value = value
        self.caseInsensitive = caseInsensitive
    }
}

extension QueryFilter {
    /// `[field, "=", value]`.
    public static func equal(_ field: String, _ value: JSON) -> QueryFilter {
        .condition(QueryCondition(field: QueryPath(field), op: .equal, value: value))
    }
}

public enum QueryOperator: String, Sendable, CaseIterable {
    case equal = "="
    case notEqual = "!="
    case greater = ">"
    case greaterOrEqual = ">="
    case less = "<"
    case lessOrEqual = "<="
    case regex = "~"
    case `in` = "in"
    case notIn = "nin"
    case reverseIn = "rin"
    case reverseNotIn = "rnin"
    case startsWith = "^"
    case notStartsWith = "!^"
    case endsWith = "$"
    case notEndsWith = "!$"
}

/// A dotted path into a row: `a.b`, `list.0.x`, `list.*.x`; `\.` escapes a dot inside a name.
public struct QueryPath: Sendable, Equatable, CustomStringConvertible {
    public enum Component: Sendable, Equatable {
        case key(String)
        /// `*`: every element of an array.
        case any
    }

    public var components: [Component]
    public var description: String

    public init(_ text: String) {
        description = text
        var parts: [String] = []
        var current = ""
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "." {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        components = parts.map { $0 == "*" ? .any : .key($0) }
    }

    /// The single column name when the path has no dots.
    public var simpleName: String? {
        if components.count == 1, case .key(let name) = components[0] { return name }
        return nil
    }

    /// Every value at this path; several when the path crosses `*`, none when it leads nowhere.
    public func values(in row: JSON) -> [JSON] {
        var current: [JSON] = [row]
        for component in components {
            var next: [JSON] = []
            for value in current {
                switch (component, value) {
                case (.any, .array(let array)):
                    next.append(contentsOf: array)
                case (.key(let key), .object(let object)):
                    if let child = object[key] { next.append(child) }
                case (.key(let key), .array(let array)):
                    if let index = Int(key), index >= 0, index < array.count { next.append(array[index]) }
                default:
                    break
                }
            }
            current = next
        }
        return current
    }

    /// The one value at this path, `nil` if it leads nowhere.
    public func value(in row: JSON) -> JSON? {
        values(in: row).first
    }

    var hasWildcard: Bool { components.contains(.any) }
}

extension QueryFilter {
    /// Parses the filters argument of `query(filters, options)`.
    /// - Throws: `CallError` (EINVAL) naming the offending filter by its index.
    public static func parseList(_ json: JSON, attribute: String = "filters") throws -> [QueryFilter] {
        guard case .array(let items) = json else {
            if json.isNull { return [] }
            throw CallError.validation(attribute, "Filters should be a list")
        }
        return try items.enumerated().map { index, item in try parse(item, attribute: "\(attribute).\(index)") }
    }

    static func parse(_ json: JSON, attribute: String) throws -> QueryFilter {
        guard case .array(let parts) = json else {
            throw CallError.validation(attribute, "A filter should be a list [field, operator, value] or [\"OR\", [...]]")
        }
        if parts.count == 2, case .string("OR") = parts[0] {
            guard case .array(let branches) = parts[1], !branches.isEmpty else {
                throw CallError.validation(attribute, "OR needs a non-empty list of filters")
            }
            return .or(try branches.enumerated().map { index, branch in
                let branchAttribute = "\(attribute).1.\(index)"
                // A branch is a single filter, or a list of filters (AND).
                if case .array(let inner) = branch, let first = inner.first, case .array = first {
                    return try inner.enumerated().map { i, f in try parse(f, attribute: "\(branchAttribute).\(i)") }
                }
                return [try parse(branch, attribute: branchAttribute)]
            })
        }
        guard parts.count == 3 else {
            throw CallError.validation(attribute, "A filter should have 3 elements [field, operator, value], found \(parts.count)")
        }
        guard case .string(let field) = parts[0], !field.isEmpty else {
            throw CallError.validation(attribute, "The filter's field should be a non-empty string")
        }
        guard case .string(var opText) = parts[1] else {
            throw CallError.validation(attribute, "The filter's operator should be a string")
        }
        var caseInsensitive = false
        if opText.hasPrefix("C"), opText.count > 1 {
            caseInsensitive = true
            opText.removeFirst()
        }
        guard let op = QueryOperator(rawValue: opText) else {
            throw CallError.validation(attribute, "Invalid operator \(parts[1]); expected one of \(QueryOperator.allCases.map(\.rawValue).joined(separator: " "))")
        }
        let value = parts[2]
        switch op {
        case .in, .notIn:
            guard case .array = value else {
                throw CallError.validation(attribute, "The value of '\(op.rawValue)' should be a list")
            }
        case .regex:
            guard case .string(let pattern) = value else {
                throw CallError.validation(attribute, "The value of '~' should be a string (a regular expression)")
            }
            if case .failure(let refusal) = PatternCache.shared.compiled(pattern, ignoringCase: caseInsensitive) {
                throw CallError.validation("\(attribute).2", "Regular expression refused: \(refusal.reason)")
            }
        case .startsWith, .notStartsWith, .endsWith, .notEndsWith:
            guard case .string = value else {
                throw CallError.validation(attribute, "The value of '\(op.rawValue)' should be a string")
            }
        default:
            break
        }
        return .condition(QueryCondition(field: QueryPath(field), op: op, value: value, caseInsensitive: caseInsensitive))
    }
}
