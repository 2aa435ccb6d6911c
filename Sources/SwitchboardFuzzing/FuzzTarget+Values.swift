import SwitchboardCore

/// The value-level targets: JSON, schemas, queries. Each invariant is a `check…` function apart from the
/// component it judges, so the tests can hand it a broken answer and see it fire.
extension FuzzTarget {
    /// A parsed document encodes to text that parses to the same document, and encoding is stable.
    static func json(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard let value = try? JSON.parse(buffer: bytes) else { return nil }
        return checkRoundTrip(value) { $0.encodedBytes() }
    }

    static func checkRoundTrip(_ value: JSON, encode: (JSON) -> [UInt8]) -> String? {
        let encoded = encode(value)
        guard let again = try? JSON.parse(bytes: encoded) else {
            return "encoded JSON does not parse: \(String(decoding: encoded, as: UTF8.self).prefix(200))"
        }
        guard again == value else { return "round trip changed the value: \(String(decoding: encoded, as: UTF8.self).prefix(200))" }
        guard encode(again) == encoded else { return "encoding is not stable" }
        return nil
    }

    /// `[schema, instance]`: compiling and validating never crash or loop; `isValid` agrees with `validate`,
    /// and every issue's path starts at the argument.
    static func schema(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard let input = try? JSON.parse(buffer: bytes), case .array(let parts) = input, parts.count == 2,
              let schema = try? Schema(parts[0])
        else { return nil }
        return checkValidation(issues: schema.validate(parts[1], path: "value"), isValid: schema.isValid(parts[1]))
    }

    static func checkValidation(issues: [ValidationIssue], isValid: Bool) -> String? {
        if isValid != issues.isEmpty { return "isValid and validate disagree" }
        for issue in issues where !issue.attribute.hasPrefix("value") {
            return "issue path \(issue.attribute) does not start at the argument"
        }
        for issue in issues where issue.message.isEmpty { return "issue at \(issue.attribute) without a message" }
        return nil
    }

    /// `[rows, filters, options]`: parsing and running a query never crash; results keep their promises.
    static func query(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard let input = try? JSON.parse(buffer: bytes), case .array(let parts) = input, parts.count == 3,
              case .array(let rows) = parts[0],
              let (filters, options) = try? QueryArguments.parse([parts[1], parts[2]])
        else { return nil }
        guard let result = try? QueryEngine.run(rows, filters: filters, options: options) else { return nil }
        return checkQueryResult(result, rows: rows, options: options)
    }

    static func checkQueryResult(_ result: JSON, rows: [JSON], options: QueryOptions) -> String? {
        if options.count {
            guard case .int(let n) = result, n >= 0, n <= rows.count else { return "count \(result) out of range" }
        } else if options.get {
            // One row or null; without a projection, one of the rows given.
            if options.select.isEmpty && !result.isNull && !rows.contains(result) { return "get answered a row that was not given" }
        } else {
            guard case .array(let out) = result else { return "a query answered \(result.typeName), not a list" }
            if out.count > rows.count { return "more rows out than in" }
            if options.limit > 0 && out.count > options.limit { return "limit not kept" }
            if options.select.isEmpty, let stray = out.first(where: { !rows.contains($0) }) {
                return "a row out that was not given: \(stray.encodedString().prefix(100))"
            }
        }
        return nil
    }
}
