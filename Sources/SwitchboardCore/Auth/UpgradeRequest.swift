/// The HTTP request that opened a WebSocket connection, as a session manager reads it: its path, query and
/// headers (a web application's session cookie, a proxy's identity header), and where it came from.
public struct UpgradeRequest: Sendable {
    public var path: String
    /// The query string after `?`, undecoded; empty when there is none.
    public var query: String
    /// Each header line, in order; names are lowercased.
    public var headers: [(name: String, value: String)]
    public var origin: SessionOrigin
    /// Whether the connection is TLS.
    public var encrypted: Bool
    /// The dialect the connection speaks (`jsonrpc`, `ddp`, `envelope`).
    public var dialect: String

    public init(path: String, query: String = "", headers: [(name: String, value: String)], origin: SessionOrigin, encrypted: Bool,
                dialect: String) {
        self.path = path
        self.query = query
        self.headers = headers.map { (name: $0.name.lowercased(), value: $0.value) }
        self.origin = origin
        self.encrypted = encrypted
        self.dialect = dialect
    }

    /// The first header of this name (any case).
    public func header(_ name: String) -> String? {
        let name = name.lowercased()
        return headers.first { $0.name == name }?.value
    }

    /// The cookies of every `Cookie` header (RFC 6265: `name=value` pairs separated by `;`), the first of each
    /// name kept; a value in double quotes loses them.
    public var cookies: [String: String] {
        var cookies: [String: String] = [:]
        for header in headers where header.name == "cookie" {
            for pair in header.value.split(separator: ";") {
                guard let equals = pair.firstIndex(of: "=") else { continue }
                let name = pair[..<equals].trimmingSpaces
                var value = pair[pair.index(after: equals)...].trimmingSpaces
                if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
                if !name.isEmpty, cookies[name] == nil { cookies[name] = value }
            }
        }
        return cookies
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
