import OrderedCollections

/// A JSON value that round-trips exactly.
///
/// Integers and fractional numbers are kept apart so that a request `id` of `7` is echoed as `7`, never `7.0`;
/// object keys keep their order so replies read the way plugins built them.
///
/// ```swift
/// let value = try JSON.parse(#"{"id": 7, "params": ["root"]}"#)
/// value["id"]        // .int(7)
/// value.encodedString() // {"id":7,"params":["root"]}
/// ```
public enum JSON: Sendable {
    case null
    case bool(Bool)
    /// An integer that fits in 64 bits; larger integers parse as `.double`.
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object(JSONObject)
}

public typealias JSONObject = OrderedDictionary<String, JSON>

extension JSON {
    /// The JSON type name as JSON Schema spells it (`integer` for integral numbers).
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double(let d): return d.rounded() == d && d.isFinite ? "integer" : "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    public var isNull: Bool { if case .null = self { return true } else { return false } }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var arrayValue: [JSON]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o } else { return nil } }

    /// The value as an integer when it is integral (`3` or `3.0`).
    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.2e18: return Int64(d)
        default: return nil
        }
    }

    /// The value as a double for any number.
    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    public var isNumber: Bool {
        switch self {
        case .int, .double: return true
        default: return false
        }
    }

    /// Member of an object, `nil` for a missing key or a non-object.
    public subscript(key: String) -> JSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// Element of an array, `nil` when out of range or not an array.
    public subscript(index: Int) -> JSON? {
        if case .array(let a) = self, index >= 0, index < a.count { return a[index] }
        return nil
    }
}
