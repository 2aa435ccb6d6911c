import Synchronization

/// The HTTP routes plugins serve, looked up by the daemon's HTTP listener for paths under `/plugins/`.
public final class HTTPRouteTable: Sendable {
    public static let prefix = "/plugins/"

    private let routes = Mutex<[HTTPRouteKey: HTTPRouteDescriptor]>([:])

    public init() {}

    /// - Throws: `CallError` EINVAL for a path outside `/plugins/<plugin>/`, EEXIST when the route is taken.
    func register(_ route: HTTPRouteDescriptor, plugin: String) throws(CallError) {
        let root = Self.prefix + plugin + "/"
        guard route.key.path.hasPrefix(root), route.key.path.count > root.count, !route.key.path.contains("/../") else {
            throw CallError(Errno.EINVAL, "HTTP route \(route.key) of plugin \(plugin) must lie under \(root)")
        }
        try routes.withLock { routes throws(CallError) in
            guard routes[route.key] == nil else { throw CallError(Errno.EEXIST, "HTTP route \(route.key) is already registered") }
            routes[route.key] = route
        }
    }

    func unregister(_ key: HTTPRouteKey) {
        routes.withLock { _ = $0.removeValue(forKey: key) }
    }

    /// The route for a request; an exact path wins over a `/*` one, a longer `/*` over a shorter one.
    public func route(method: String, path: String) -> HTTPRouteDescriptor? {
        let method = method.uppercased()
        return routes.withLock { routes in
            if let exact = routes[HTTPRouteKey(method: method, path: path)] { return exact }
            return routes.values.filter { $0.key.method == method && $0.matches(path) }.max { $0.key.path.count < $1.key.path.count }
        }
    }

    /// The methods some route serves at `path`, for a 405's `Allow`.
    public func methods(path: String) -> [String] {
        routes.withLock { Array(Set($0.values.filter { $0.matches(path) }.map(\.key.method))).sorted() }
    }

    public var keys: [HTTPRouteKey] { routes.withLock { Array($0.keys) }.sorted { $0.description < $1.description } }
}
