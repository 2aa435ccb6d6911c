/// Keeps secrets out of the audit table: an argument whose parameter is named like a secret, and any object
/// member named like one at any depth, is replaced by a mask; large arguments are cut.
public enum AuditRedaction {
    public static let mask: JSON = "********"

    /// Names (lowercased) whose values are never stored.
    public static let secretNames: Set<String> = [
        "password", "new_password", "old_password", "current_password", "passphrase", "pass", "secret", "client_secret",
        "token", "api_key", "apikey", "key", "private_key", "privatekey", "otp", "otp_token", "authorization", "cookie",
    ]

    /// Encoded arguments larger than this are stored as a note of their size instead.
    public static let maxStoredBytes = 4096

    /// The call's positional arguments as they may be stored. `parameterNames` are the method's parameter names
    /// by position; arguments beyond them are redacted by member names only.
    public static func redact(_ params: [JSON], parameterNames: [String]) -> JSON {
        var out: [JSON] = []
        out.reserveCapacity(params.count)
        for (index, value) in params.enumerated() {
            if index < parameterNames.count, isSecret(parameterNames[index]) {
                out.append(masked(parameterNames[index], value))
            } else {
                out.append(redact(value, depth: 0))
            }
        }
        let result = JSON.array(out)
        let size = result.encodedBytes().count
        if size > maxStoredBytes { return ["truncated": true, "bytes": .int(Int64(size))] }
        return result
    }

    static func isSecret(_ name: String) -> Bool { secretNames.contains(name.lowercased()) }

    /// Names of API keys (`<id>-<secret>`), whose id is not secret and tells an operator which key was tried.
    static let keyNames: Set<String> = ["api_key", "apikey", "key"]

    /// The mask for a secret named `name`: an API key keeps its id (at most 12 digits before the dash).
    static func masked(_ name: String, _ value: JSON) -> JSON {
        if value.isNull { return .null }
        if keyNames.contains(name.lowercased()), case .string(let text) = value, let dash = text.firstIndex(of: "-") {
            let id = text[..<dash]
            if (1...12).contains(id.count), id.allSatisfy({ $0.isASCII && $0.isNumber }) { return .string("\(id)-********") }
        }
        return mask
    }

    /// Depth is bounded by the parser already; the cap here only keeps this loop honest on its own.
    static func redact(_ value: JSON, depth: Int) -> JSON {
        guard depth < 64 else { return mask }
        switch value {
        case .object(let object):
            var copy = object
            for (key, member) in object {
                copy[key] = isSecret(key) ? masked(key, member) : redact(member, depth: depth + 1)
            }
            return .object(copy)
        case .array(let items):
            return .array(items.map { redact($0, depth: depth + 1) })
        default:
            return value
        }
    }
}
