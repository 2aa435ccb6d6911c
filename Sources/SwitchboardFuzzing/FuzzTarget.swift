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
