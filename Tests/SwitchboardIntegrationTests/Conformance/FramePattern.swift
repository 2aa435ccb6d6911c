import SwitchboardCore

/// Values captured from replies (a job id, a token) for later frames of the same script.
final class Captures: @unchecked Sendable {
    // Used by one script at a time, on one task.
    var values: [String: JSON] = [:]

    /// `text` with every `$name` replaced by the captured value's JSON; longer names first, so `$job2` is not read as `$job`.
    func substitute(_ text: String) -> String {
        var out = text
        for (name, value) in values.sorted(by: { $0.key.count > $1.key.count }) {
            let encoded = value.encodedString()
            out = out.replacingOccurrences(of: "\"$\(name)\"", with: encoded).replacingOccurrences(of: "$\(name)", with: value.stringValue ?? encoded)
        }
        return out
    }
}

/// Compares a reply with the spec's frame, written as JSON with placeholders:
/// - `"<string>"`, `"<int>"`, `"<number>"`, `"<bool>"`, `"<array>"`, `"<object>"`, `"<null>"`, `"<any>"`; alternatives
///   with `|` (`"<int|null>"`); `"<uuid>"` for a session id;
/// - `"<int:job>"` matches an integer and captures it as `job`; `"$job"` then matches only that value;
/// - an object matches only the same keys (the structure of a reply is part of the contract), unless the pattern
///   has `"<more>": true`.
enum FramePattern {
    /// nil when `actual` matches, else where and why it does not.
    static func mismatch(_ pattern: JSON, _ actual: JSON, captures: Captures, path: String = "$") -> String? {
        switch pattern {
        case .string(let text) where text.hasPrefix("<") && text.hasSuffix(">") && text.count > 2:
            let body = text.dropFirst().dropLast()
            let (kinds, name) = { () -> (Substring, String?) in
                guard let colon = body.firstIndex(of: ":") else { return (body, nil) }
                return (body[..<colon], String(body[body.index(after: colon)...]))
            }()
            let ok = kinds.split(separator: "|").contains { kind in typeMatches(String(kind), actual) }
            guard ok else { return "\(path): expected \(text), got \(actual.encodedString())" }
            if let name { captures.values[name] = actual }
            return nil
        case .string(let text) where text.hasPrefix("$") && captures.values[String(text.dropFirst())] != nil:
            let expected = captures.values[String(text.dropFirst())] ?? .null
            return expected == actual ? nil : "\(path): expected \(text) = \(expected.encodedString()), got \(actual.encodedString())"
        case .object(let want):
            guard case .object(let got) = actual else { return "\(path): expected an object, got \(actual.encodedString())" }
            let open = want["<more>"] == true
            for (key, value) in want where key != "<more>" {
                guard let member = got[key] else { return "\(path): missing key \"\(key)\" in \(actual.encodedString())" }
                if let problem = mismatch(value, member, captures: captures, path: path + "." + key) { return problem }
            }
            if !open, let extra = got.keys.first(where: { want[$0] == nil }) {
                return "\(path): unexpected key \"\(extra)\" in \(actual.encodedString())"
            }
            return nil
        case .array(let want):
            guard case .array(let got) = actual else { return "\(path): expected an array, got \(actual.encodedString())" }
            guard want.count == got.count else { return "\(path): expected \(want.count) items, got \(got.count): \(actual.encodedString())" }
            for (index, (w, g)) in zip(want, got).enumerated() {
                if let problem = mismatch(w, g, captures: captures, path: path + "[\(index)]") { return problem }
            }
            return nil
        default:
            // Exact, including the JSON type: 7 and "7" differ, as they do to clients.
            return sameTyped(pattern, actual) ? nil : "\(path): expected \(pattern.encodedString()), got \(actual.encodedString())"
        }
    }

    static func sameTyped(_ a: JSON, _ b: JSON) -> Bool {
        switch (a, b) {
        case (.int, .double), (.double, .int): return false
        default: return a == b
        }
    }

    static func typeMatches(_ kind: String, _ value: JSON) -> Bool {
        switch (kind, value) {
        case ("any", _): return true
        case ("string", .string), ("int", .int), ("bool", .bool), ("array", .array), ("object", .object), ("null", .null): return true
        case ("number", .int), ("number", .double): return true
        case ("uuid", .string(let s)): return s.count == 36 && s.split(separator: "-").count == 5
        default: return false
        }
    }
}
