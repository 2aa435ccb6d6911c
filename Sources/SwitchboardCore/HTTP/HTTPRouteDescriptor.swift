/// An HTTP endpoint a plugin serves beside the RPC dialects: a download, a webhook, a health probe of its own.
///
/// Its path lies under `/plugins/<plugin>/`, so that plugins cannot shadow the daemon's routes or each other's;
/// a path ending in `/*` also takes every path below it. The daemon authenticates the request as REST does
/// (HTTP Basic, a bearer token or API key) and checks `roles` before the handler runs, unless the route is
/// `public`.
///
/// ```swift
/// try context.register(HTTPRouteDescriptor(method: "GET", path: "/plugins/hello/greeting", roles: [Role.readonlyAdmin]) { request in
///     HTTPRouteResponse(status: 200, contentType: "text/plain", body: Array("Hello, \(request.session.credentials?.username ?? "")".utf8))
/// })
/// ```
public struct HTTPRouteDescriptor: Sendable {
    public typealias Handler = @Sendable (HTTPRouteRequest) async throws -> HTTPRouteResponse

    public var key: HTTPRouteKey
    public var description: String
    /// Any one of these admits the caller; empty means FULL_ADMIN only.
    public var roles: [String]
    /// Served without authentication.
    public var isPublic: Bool
    public var handler: Handler

    public init(method: String, path: String, description: String = "", roles: [String] = [], isPublic: Bool = false,
                handler: @escaping Handler) {
        self.key = HTTPRouteKey(method: method, path: path)
        self.description = description
        self.roles = roles
        self.isPublic = isPublic
        self.handler = handler
    }

    func matches(_ path: String) -> Bool {
        if key.path == path { return true }
        guard key.path.hasSuffix("/*") else { return false }
        return path.hasPrefix(key.path.dropLast())
    }
}
