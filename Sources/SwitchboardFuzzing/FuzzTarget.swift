import SwitchboardCore
import SwitchboardWire

/// The inputs the fuzzers drive, one function per target: each takes arbitrary bytes, must never crash,
/// and checks the invariants of its component (a violation is reported by `FuzzTarget.failure`, which the
/// fuzz executables turn into a crash so libFuzzer keeps the input).
///
/// The same functions replay the committed corpus and every regression input in the unit tests, so a
/// crash found once stays fixed (`Tests/SwitchboardCoreTests/FuzzRegressionTests.swift`).
public enum FuzzTarget: String, CaseIterable, Sendable {
    case json
    case schema
    case query
    case jsonrpc
    case ddp
    case envelope
    case regex
    case frames
    case head

    /// Runs one input; returns a description of a broken invariant, or nil.
    public func run(_ bytes: UnsafeRawBufferPointer) -> String? {
        switch self {
        case .json: return Self.json(bytes)
        case .schema: return Self.schema(bytes)
        case .query: return Self.query(bytes)
        case .jsonrpc: return Self.jsonRPC(bytes)
        case .ddp: return Self.ddp(bytes)
        case .envelope: return Self.envelope(bytes)
        case .regex: return Self.regex(bytes)
        case .frames: return Self.frames(bytes)
        case .head: return Self.head(bytes)
        }
    }

    public func run(_ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBytes { run($0) }
    }

    /// A parsed document encodes to text that parses to the same document, and encoding is stable.
    static func json(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard let value = try? JSON.parse(buffer: bytes) else { return nil }
        let encoded = value.encodedBytes()
        guard let again = try? JSON.parse(bytes: encoded) else {
            return "encoded JSON does not parse: \(String(decoding: encoded, as: UTF8.self).prefix(200))"
        }
        guard again == value else { return "round trip changed the value: \(String(decoding: encoded, as: UTF8.self).prefix(200))" }
        guard again.encodedBytes() == encoded else { return "encoding is not stable" }
        return nil
    }

    /// `PATTERN NUL SUBJECT`: compiling and searching never crash or loop; a refusal says why; grouping the
    /// whole pattern changes nothing; a pattern compiles ignoring case too; a small budget either gives the
    /// same answer or stops with E2BIG past its limit.
    static func regex(_ bytes: UnsafeRawBufferPointer) -> String? {
        let split = bytes.firstIndex(of: 0) ?? bytes.count
        let pattern = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<split]), as: UTF8.self)
        let subject = split < bytes.count ? String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(split + 1)...]), as: UTF8.self) : ""
        let regex: ECMARegex
        do {
            regex = try ECMARegex(compiling: pattern)
        } catch {
            return error.reason.isEmpty ? "a refusal without a reason" : nil
        }
        let found = regex.search(subject)
        // A leading `(?i)` is a flag, outside the grammar: the group goes after it.
        let body = pattern.hasPrefix("(?i)") ? String(pattern.dropFirst(4)) : pattern
        guard let grouped = ECMARegex("(?:" + body + ")", ignoringCase: regex.ignoresCase) else { return "the pattern compiles, but not in a group" }
        if grouped.search(subject) != found { return "grouping the pattern changed the answer" }
        // Not a superset: `[^a]` finds "A" matching case and not ignoring it, as ECMA-262 says.
        guard let folded = ECMARegex(pattern, ignoringCase: true) else { return "the pattern compiles, but not ignoring case" }
        _ = folded.search(subject)
        let budget = MatchBudget(limit: 1_000)
        do {
            if try regex.search(subject, budget: budget) != found { return "a budget changed the answer" }
            if budget.used > budget.limit { return "the budget was overspent without a refusal" }
        } catch let error as CallError {
            if error.errno != Errno.E2BIG || budget.used <= budget.limit { return "a wrong refusal: \(error)" }
        } catch {
            return "unexpected \(error)"
        }
        return nil
    }

    /// `LIMIT(2 bytes) CUT(2 bytes) STREAM`: the frame-header watch gives the same verdict however the stream is
    /// cut; what it passes holds only masked frames whose messages stay within the limit, as a reference
    /// parser of the whole stream finds.
    static func frames(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard bytes.count >= 4 else { return nil }
        let limit = Int(bytes[0]) << 8 | Int(bytes[1])
        let stream = Array(bytes[4...])
        let cut = stream.isEmpty ? 0 : (Int(bytes[2]) << 8 | Int(bytes[3])) % stream.count
        var whole = WebSocketFrameWatch()
        let once = stream.withUnsafeBytes { whole.inspect($0, limit: limit, authenticated: false) }
        var pieces = WebSocketFrameWatch()
        var twice = stream[..<cut].withUnsafeBytes { pieces.inspect($0, limit: limit, authenticated: false) }
        if twice == .pass { twice = stream[cut...].withUnsafeBytes { pieces.inspect($0, limit: limit, authenticated: false) } }
        if once != twice { return "cutting the stream at \(cut) changed the verdict: \(once) vs \(twice)" }
        // The reference: walk the complete frame headers of the stream.
        var index = 0
        var total: UInt64 = 0
        while index + 2 <= stream.count {
            var length = UInt64(stream[index + 1] & 0x7F)
            var size = 2
            if length == 126 { size = 4 } else if length == 127 { size = 10 }
            let masked = stream[index + 1] & 0x80 != 0
            if masked { size += 4 }
            guard index + size <= stream.count else { break }
            if length == 126 { length = UInt64(stream[index + 2]) << 8 | UInt64(stream[index + 3]) }
            if length == 127 { length = stream[(index + 2)..<(index + 10)].reduce(0) { $0 << 8 | UInt64($1) } }
            let opcode = stream[index] & 0x0F
            if !masked {
                return once == .refuse(code: 1002, reason: "client frames must be masked") ? nil : "an unmasked frame passed: \(once)"
            }
            if opcode < 0x8 {
                if opcode != 0 { total = 0 }
                total = total.addingReportingOverflow(length).overflow ? .max : total + length
                if total > UInt64(limit) {
                    if case .refuse(1007, _) = once { return nil }
                    return "a message of \(total) bytes over \(limit) passed: \(once)"
                }
                if stream[index] & 0x80 != 0 { total = 0 }
            }
            let (next, overflow) = UInt64(index + size).addingReportingOverflow(length)
            guard !overflow, next <= UInt64(stream.count) else { break }
            index = Int(next)
        }
        return once == .pass ? nil : "refused a stream the reference passes: \(once)"
    }

    /// An HTTP head fed whole and byte by byte ends at the same place with the same upgrade answer.
    static func head(_ bytes: UnsafeRawBufferPointer) -> String? {
        var whole = HTTPHeadWatch(maxSize: 4096)
        let once = whole.inspect(bytes)
        var single = HTTPHeadWatch(maxSize: 4096)
        for index in 0..<bytes.count {
            let outcome = single.inspect(UnsafeRawBufferPointer(rebasing: bytes[index...index]))
            switch (outcome, once) {
            case (.incomplete, _): continue
            case (.complete(let upgrade, _), .complete(let expected, let consumed)):
                return upgrade == expected && consumed == index + 1 ? nil : "byte by byte ended at \(index + 1), whole at \(consumed)"
            case (.tooLarge, .tooLarge): return nil
            default: return "byte by byte: \(outcome), whole: \(once)"
            }
        }
        return once == .incomplete ? nil : "whole: \(once), byte by byte: incomplete"
    }

    /// `[schema, instance]`: compiling and validating never crash or loop; `isValid` agrees with `validate`.
    static func schema(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard let input = try? JSON.parse(buffer: bytes), case .array(let parts) = input, parts.count == 2,
              let schema = try? Schema(parts[0])
        else { return nil }
        let issues = schema.validate(parts[1], path: "value")
        if schema.isValid(parts[1]) != issues.isEmpty { return "isValid and validate disagree" }
        for issue in issues where !issue.attribute.hasPrefix("value") {
            return "issue path \(issue.attribute) does not start at the argument"
        }
        return nil
    }

    /// `[rows, filters, options]`: parsing and running a query never crash; results keep their promises.
    static func query(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard let input = try? JSON.parse(buffer: bytes), case .array(let parts) = input, parts.count == 3,
              case .array(let rows) = parts[0],
              let (filters, options) = try? QueryArguments.parse([parts[1], parts[2]])
        else { return nil }
        guard let result = try? QueryEngine.run(rows, filters: filters, options: options) else { return nil }
        if options.count {
            guard case .int(let n) = result, n >= 0, n <= rows.count else { return "count \(result) out of range" }
        } else if !options.get {
            guard case .array(let out) = result else { return "a query answered \(result.typeName), not a list" }
            if out.count > rows.count { return "more rows out than in" }
            if options.limit > 0 && out.count > options.limit { return "limit not kept" }
        }
        return nil
    }

    /// Decoding any frame gives a message or a refusal; a refusal's reply encodes to valid JSON.
    static func jsonRPC(_ bytes: UnsafeRawBufferPointer) -> String? {
        let decoded = JSONRPCCodec.decode(bytes)
        if case .invalid(let id, let code, let message, let reason) = decoded {
            let reply = JSONRPCCodec.encodeInvalid(id: id, code: code, message: message, reason: reason)
            if (try? JSON.parse(bytes: reply)) == nil { return "the refusal is not JSON" }
        }
        return nil
    }

    static func ddp(_ bytes: UnsafeRawBufferPointer) -> String? {
        switch DDPCodec.decode(bytes) {
        case .invalid(_, let reason):
            if (try? JSON.parse(bytes: DDPCodec.encodeMalformed(reason: reason))) == nil { return "the refusal is not JSON" }
        case .method(let id, _, _):
            if (try? JSON.parse(bytes: DDPCodec.encodeResult(id: id, result: .null))) == nil { return "a reply to id \(id) is not JSON" }
        default:
            break
        }
        return nil
    }

    static func envelope(_ bytes: UnsafeRawBufferPointer) -> String? {
        let reply: JSON
        switch EnvelopeCodec.decode(bytes) {
        case .invalid(let id, let reason): reply = EnvelopeCodec.error(id: id, error: CallError(Errno.EINVAL, reason))
        case .request(let id, let namespace, _, _): reply = EnvelopeCodec.response(id: id, namespace: namespace, args: .null)
        }
        if (try? JSON.parse(bytes: EnvelopeCodec.encode(reply))) == nil { return "the reply is not JSON" }
        return nil
    }
}
