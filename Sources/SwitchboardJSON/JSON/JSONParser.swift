/// Why a byte sequence is not acceptable JSON, with the byte offset where that was found.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        case unexpectedEnd
        case unexpectedByte(UInt8)
        case invalidNumber
        case invalidEscape
        case invalidUTF8
        case controlCharacterInString
        case tooDeep(limit: Int)
        case tooLarge(limit: Int)
        case trailingData
    }

    public var reason: Reason
    public var offset: Int

    public var description: String {
        switch reason {
        case .unexpectedEnd: return "unexpected end of input"
        case .unexpectedByte(let b): return "unexpected character '\(Unicode.Scalar(b).escaped(asASCII: true))' at offset \(offset)"
        case .invalidNumber: return "invalid number at offset \(offset)"
        case .invalidEscape: return "invalid escape sequence at offset \(offset)"
        case .invalidUTF8: return "invalid UTF-8 in string at offset \(offset)"
        case .controlCharacterInString: return "unescaped control character in string at offset \(offset)"
        case .tooDeep(let limit): return "nesting deeper than \(limit) levels at offset \(offset)"
        case .tooLarge(let limit): return "array or object with more than \(limit) members at offset \(offset)"
        case .trailingData: return "unexpected data after the JSON value at offset \(offset)"
        }
    }
}

/// Limits that keep hostile input from costing unbounded stack or memory.
public struct JSONParseLimits: Sendable {
    /// Maximum nesting of arrays and objects; deeper input is refused, never recursed into.
    public var maxDepth: Int
    /// Maximum members of one array or object.
    public var maxMembers: Int

    public init(maxDepth: Int = 64, maxMembers: Int = 1_000_000) {
        self.maxDepth = maxDepth
        self.maxMembers = maxMembers
    }

    public static let `default` = JSONParseLimits()
}

extension JSON {
    /// Parses one JSON text (RFC 8259) from UTF-8 bytes.
    ///
    /// - Throws: `JSONParseError` only.
    public static func parse<Bytes: Collection>(bytes: Bytes, limits: JSONParseLimits = .default) throws -> JSON
    where Bytes.Element == UInt8 {
        let result: Result<JSON, JSONParseError>? = bytes.withContiguousStorageIfAvailable { buffer in
            var parser = JSONByteParser(buffer: UnsafeRawBufferPointer(buffer), limits: limits)
            return Result { () throws(JSONParseError) in try parser.parseDocument() }
        }
        if let result { return try result.get() }
        return try parse(raw: Array(bytes), limits: limits)
    }

    /// Parses from a raw buffer (a frame's bytes, without copying).
    public static func parse(buffer: UnsafeRawBufferPointer, limits: JSONParseLimits = .default) throws -> JSON {
        var parser = JSONByteParser(buffer: buffer, limits: limits)
        return try parser.parseDocument()
    }

    static func parse(raw: [UInt8], limits: JSONParseLimits) throws -> JSON {
        try raw.withUnsafeBytes { buffer in try parse(buffer: buffer, limits: limits) }
    }

    /// Parses one JSON text from a string.
    public static func parse(_ text: String, limits: JSONParseLimits = .default) throws -> JSON {
        var text = text
        return try text.withUTF8 { buffer in try parse(buffer: UnsafeRawBufferPointer(buffer), limits: limits) }
    }
}

/// A recursive-descent parser over a contiguous byte buffer; depth is bounded by `limits.maxDepth`.
struct JSONByteParser {
    let buffer: UnsafeRawBufferPointer
    let limits: JSONParseLimits
    var index = 0
    var depth = 0

    init(buffer: UnsafeRawBufferPointer, limits: JSONParseLimits) {
        self.buffer = buffer
        self.limits = limits
    }

    mutating func parseDocument() throws(JSONParseError) -> JSON {
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if index != buffer.count { throw JSONParseError(reason: .trailingData, offset: index) }
        return value
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while index < buffer.count {
            switch buffer[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    func fail(_ reason: JSONParseError.Reason) -> JSONParseError {
        JSONParseError(reason: reason, offset: index)
    }

    mutating func parseValue() throws(JSONParseError) -> JSON {
        guard index < buffer.count else { throw fail(.unexpectedEnd) }
        switch buffer[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        case let byte: throw fail(.unexpectedByte(byte))
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard buffer.count - index >= count else { throw JSONParseError(reason: .unexpectedEnd, offset: buffer.count) }
        let start = literal.utf8Start
        for i in 0..<count where buffer[index + i] != start[i] {
            throw JSONParseError(reason: .unexpectedByte(buffer[index + i]), offset: index + i)
        }
        index += count
    }

    mutating func enter() throws(JSONParseError) {
        depth += 1
        if depth > limits.maxDepth { throw fail(.tooDeep(limit: limits.maxDepth)) }
    }

    mutating func parseObject() throws(JSONParseError) -> JSON {
        try enter()
        index += 1
        var object = JSONObject()
        skipWhitespace()
        if index < buffer.count, buffer[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard index < buffer.count else { throw fail(.unexpectedEnd) }
            guard buffer[index] == UInt8(ascii: "\"") else { throw fail(.unexpectedByte(buffer[index])) }
            let key = try parseString()
            skipWhitespace()
            guard index < buffer.count else { throw fail(.unexpectedEnd) }
            guard buffer[index] == UInt8(ascii: ":") else { throw fail(.unexpectedByte(buffer[index])) }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            // Duplicate keys: the last one wins, as in most parsers (and Python's json, which middlewared uses).
            object[key] = value
            if object.count > limits.maxMembers { throw fail(.tooLarge(limit: limits.maxMembers)) }
            skipWhitespace()
            guard index < buffer.count else { throw fail(.unexpectedEnd) }
            switch buffer[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return .object(object)
            case let byte: throw fail(.unexpectedByte(byte))
            }
        }
    }

    mutating func parseArray() throws(JSONParseError) -> JSON {
        try enter()
        index += 1
        var array: [JSON] = []
        skipWhitespace()
        if index < buffer.count, buffer[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(array)
        }
        while true {
            skipWhitespace()
            array.append(try parseValue())
            if array.count > limits.maxMembers { throw fail(.tooLarge(limit: limits.maxMembers)) }
            skipWhitespace()
            guard index < buffer.count else { throw fail(.unexpectedEnd) }
            switch buffer[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                depth -= 1
                return .array(array)
            case let byte: throw fail(.unexpectedByte(byte))
            }
        }
    }

    mutating func parseString() throws(JSONParseError) -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes, so the bytes between the quotes are the string.
        while index < buffer.count {
            let byte = buffer[index]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeRawBufferPointer(rebasing: buffer[start..<index])
                index += 1
                return try makeString(slice, offset: start)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw fail(.controlCharacterInString) }
            index += 1
        }
        guard index < buffer.count else { throw fail(.unexpectedEnd) }
        var bytes: [UInt8] = Array(buffer[start..<index])
        while index < buffer.count {
            let byte = buffer[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                let made: Result<String, JSONParseError> = bytes.withUnsafeBytes { raw in
                    Result { () throws(JSONParseError) in try makeString(raw, offset: start) }
                }
                return try made.get()
            case UInt8(ascii: "\\"):
                index += 1
                guard index < buffer.count else { throw fail(.unexpectedEnd) }
                let escaped = buffer[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""): bytes.append(0x22)
                case UInt8(ascii: "\\"): bytes.append(0x5C)
                case UInt8(ascii: "/"): bytes.append(0x2F)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        // A high surrogate must be followed by an escaped low surrogate.
                        guard index + 1 < buffer.count, buffer[index] == UInt8(ascii: "\\"), buffer[index + 1] == UInt8(ascii: "u")
                        else { throw fail(.invalidEscape) }
                        index += 2
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail(.invalidEscape) }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw fail(.invalidEscape)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw fail(.invalidEscape) }
                    bytes.append(contentsOf: String(Character(unicode)).utf8)
                default:
                    throw JSONParseError(reason: .invalidEscape, offset: index - 1)
                }
            default:
                if byte < 0x20 { throw fail(.controlCharacterInString) }
                bytes.append(byte)
                index += 1
            }
        }
        throw fail(.unexpectedEnd)
    }

    mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard buffer.count - index >= 4 else { throw fail(.unexpectedEnd) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = buffer[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail(.invalidEscape)
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    func makeString(_ bytes: UnsafeRawBufferPointer, offset: Int) throws(JSONParseError) -> String {
        // ASCII needs no validation; anything else must be well-formed UTF-8 (invalid input is refused, not repaired).
        var ascii = true
        for byte in bytes where byte >= 0x80 {
            ascii = false
            break
        }
        if ascii { return String(decoding: bytes, as: UTF8.self) }
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw JSONParseError(reason: .invalidUTF8, offset: offset)
        }
        return string
    }

    mutating func parseNumber() throws(JSONParseError) -> JSON {
        let start = index
        var negative = false
        if buffer[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        guard index < buffer.count else { throw fail(.unexpectedEnd) }
        var integral = true
        var overflow = false
        var magnitude: UInt64 = 0
        let first = buffer[index]
        guard first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else { throw fail(.invalidNumber) }
        if first == UInt8(ascii: "0") {
            index += 1
            if index < buffer.count, buffer[index] >= UInt8(ascii: "0"), buffer[index] <= UInt8(ascii: "9") {
                throw fail(.invalidNumber)
            }
        } else {
            while index < buffer.count, buffer[index] >= UInt8(ascii: "0"), buffer[index] <= UInt8(ascii: "9") {
                let digit = UInt64(buffer[index] - UInt8(ascii: "0"))
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(digit)
                if o1 || o2 { overflow = true }
                magnitude = sum
                index += 1
            }
        }
        if index < buffer.count, buffer[index] == UInt8(ascii: ".") {
            integral = false
            index += 1
            let digitsStart = index
            while index < buffer.count, buffer[index] >= UInt8(ascii: "0"), buffer[index] <= UInt8(ascii: "9") { index += 1 }
            if index == digitsStart { throw fail(.invalidNumber) }
        }
        if index < buffer.count, buffer[index] == UInt8(ascii: "e") || buffer[index] == UInt8(ascii: "E") {
            integral = false
            index += 1
            if index < buffer.count, buffer[index] == UInt8(ascii: "+") || buffer[index] == UInt8(ascii: "-") { index += 1 }
            let digitsStart = index
            while index < buffer.count, buffer[index] >= UInt8(ascii: "0"), buffer[index] <= UInt8(ascii: "9") { index += 1 }
            if index == digitsStart { throw fail(.invalidNumber) }
        }
        if integral && !overflow {
            if negative {
                if magnitude <= UInt64(Int64.max) { return .int(-Int64(magnitude)) }
                if magnitude == UInt64(Int64.max) + 1 { return .int(Int64.min) }
            } else if magnitude <= UInt64(Int64.max) {
                return .int(Int64(magnitude))
            }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: buffer[start..<index]), as: UTF8.self)
        guard let double = Double(text), double.isFinite else {
            throw JSONParseError(reason: .invalidNumber, offset: start)
        }
        return .double(double)
    }
}
