/// A plugin HTTP route's method and path (`GET /plugins/backup/archive`).
public struct HTTPRouteKey: Hashable, Sendable, CustomStringConvertible {
    public var method: String
    public var path: String

    public init(method: String, path: String) {
        self.method = method.uppercased()
        self.path = path
    }

    public var description: String { "\(method) \(path)" }
}
