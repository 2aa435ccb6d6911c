import SwitchboardCore

/// One route of the middlewared-style REST API under `/api/v2.0`: an HTTP method and path template bound to a
/// registered method, and where that method's arguments come from.
public struct RESTRoute: Sendable, Equatable {
    public enum Arguments: Sendable, Equatable {
        /// No arguments (`GET /system/info`).
        case none
        /// `filters` and `options` from the query string (`GET /user?username=root&limit=5`).
        case query
        /// The request body: the one argument, or the list of arguments of a method that takes several.
        case body
        /// The `{id}` of the path, then the body as the next argument if there is one.
        case item
    }

    public var httpMethod: String
    /// Relative to `/api/v2.0`, e.g. `/user/id/{id}`; dots of the service name become slashes.
    public var path: String
    public var method: MethodDescriptor
    public var arguments: Arguments

    public static func == (a: RESTRoute, b: RESTRoute) -> Bool {
        a.httpMethod == b.httpMethod && a.path == b.path && a.method.name == b.method.name && a.arguments == b.arguments
    }
}

/// The REST mapping of the registry, as middlewared's v2.0 API lays it out: CRUD services get
/// `GET|POST /<service>` and `GET|PUT|DELETE /<service>/id/{id}`, config services `GET|PUT /<service>`, and every
/// other method `POST /<service>/<method>` (`GET` when it takes no arguments or is a query). Both the request
/// dispatcher and the OpenAPI document read this one table, so they cannot disagree.
public enum RESTRoutes {
    public static func routes(_ registry: MethodRegistry) -> [RESTRoute] {
        var byService: [String: [MethodDescriptor]] = [:]
        for method in registry.methods where !method.flags.contains(.private) {
            byService[method.namespace, default: []].append(method)
        }
        var routes: [RESTRoute] = []
        for service in registry.services {
            guard let methods = byService[service.name] else { continue }
            let base = "/" + service.name.split(separator: ".").joined(separator: "/")
            var mapped = Set<String>()
            func add(_ httpMethod: String, _ path: String, _ short: String, _ arguments: RESTRoute.Arguments) {
                guard let method = methods.first(where: { $0.name == service.name + "." + short }) else { return }
                routes.append(RESTRoute(httpMethod: httpMethod, path: path, method: method, arguments: arguments))
                mapped.insert(method.name)
            }
            switch service.kind {
            case .crud:
                add("GET", base, "query", .query)
                add("POST", base, "create", .body)
                add("GET", base + "/id/{id}", "get_instance", .item)
                add("PUT", base + "/id/{id}", "update", .item)
                add("DELETE", base + "/id/{id}", "delete", .item)
            case .config:
                add("GET", base, "config", .none)
                add("PUT", base, "update", .body)
            case .plain:
                break
            }
            for method in methods where !mapped.contains(method.name) {
                let path = base + "/" + method.name.dropFirst(service.name.count + 1)
                if isFilterable(method) {
                    routes.append(RESTRoute(httpMethod: "GET", path: path, method: method, arguments: .query))
                } else if method.params.isEmpty {
                    routes.append(RESTRoute(httpMethod: "GET", path: path, method: method, arguments: .none))
                } else {
                    routes.append(RESTRoute(httpMethod: "POST", path: path, method: method, arguments: .body))
                }
            }
        }
        return routes
    }

    /// A query method: `(filters, options)`, like every CRUD `query` and `core.get_jobs`.
    public static func isFilterable(_ method: MethodDescriptor) -> Bool {
        method.params.map(\.name) == QueryArguments.parameters.map(\.name)
    }

    /// The route for a request and the `{id}` it carried, or why there is none: ENOENT when no route has the path,
    /// EINVAL naming the allowed methods when the path exists with other HTTP methods.
    public static func match(_ routes: [RESTRoute], httpMethod: String, path: String) -> Result<(RESTRoute, String?), CallError> {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        var allowed: [String] = []
        for route in routes {
            let template = route.path.split(separator: "/")
            guard template.count == segments.count else { continue }
            var id: String?
            var matches = true
            for (want, got) in zip(template, segments) {
                if want == "{id}" {
                    id = String(got)
                } else if want != got {
                    matches = false
                    break
                }
            }
            guard matches else { continue }
            if route.httpMethod == httpMethod { return .success((route, id)) }
            allowed.append(route.httpMethod)
        }
        if allowed.isEmpty { return .failure(CallError(Errno.ENOENT, "No API endpoint \(path)")) }
        return .failure(CallError(Errno.ENOTSUP, "\(httpMethod) is not allowed on \(path); use \(allowed.sorted().joined(separator: ", "))"))
    }

    /// The arguments of a call from the request: the query string, the `{id}` and the body.
    /// - Throws: `CallError` EINVAL when the body does not fit the method.
    public static func arguments(for route: RESTRoute, id: String?, query: [(String, String)], body: JSON?) throws(CallError) -> [JSON] {
        switch route.arguments {
        case .none:
            return []
        case .query:
            return try queryArguments(query)
        case .body:
            return try bodyArguments(body, method: route.method, skipping: 0)
        case .item:
            let identifier: JSON = id.flatMap { Int64($0) }.map { .int($0) } ?? .string(id ?? "")
            return [identifier] + (try bodyArguments(body, method: route.method, skipping: 1))
        }
    }

    /// A method of one parameter (after `skipping`) takes the body as that parameter; one of several takes a list
    /// of them, or an object naming them.
    static func bodyArguments(_ body: JSON?, method: MethodDescriptor, skipping: Int) throws(CallError) -> [JSON] {
        guard let body else { return [] }
        let remaining = method.params.count - skipping
        if remaining <= 1 { return [body] }
        if case .array(let list) = body { return list }
        if case .object(let object) = body, let list = NamedArguments.positional(object, params: method.params.dropFirst(skipping)) {
            return list
        }
        throw CallError.validation("body", "\(method.name) takes \(remaining) arguments: send them as a JSON array, or an object naming them (\(method.params.dropFirst(skipping).map(\.name).joined(separator: ", ")))")
    }

    /// middlewared's query string: `field=value` and `field__op=value` filters (`eq neq gt gte lt lte regex`, or
    /// any operator of the query language spelled out), `limit`, `offset`, `count`, and `sort` (comma separated,
    /// `-field` descending). Values read as integers, booleans and null where they look like them.
    static func queryArguments(_ query: [(String, String)]) throws(CallError) -> [JSON] {
        var filters: [JSON] = []
        var options: JSONObject = [:]
        for (key, value) in query {
            switch key {
            case "limit", "offset":
                guard let number = Int64(value), number >= 0 else {
                    throw CallError.validation("query.\(key)", "A non-negative integer is required")
                }
                options[key] = .int(number)
            case "count":
                options["count"] = .bool(["true", "1"].contains(value.lowercased()))
            case "sort":
                options["order_by"] = .array(value.split(separator: ",").map { .string(String($0)) })
            default:
                let field: String
                let op: String
                if let range = key.range(of: "__") {
                    field = String(key[..<range.lowerBound])
                    let name = String(key[range.upperBound...])
                    op = operators[name] ?? name
                } else {
                    field = key
                    op = "="
                }
                guard !field.isEmpty else { throw CallError.validation("query.\(key)", "A field name is required") }
                filters.append([.string(field), .string(op), queryValue(value)])
            }
        }
        return [.array(filters), .object(options)]
    }

    static let operators = ["eq": "=", "neq": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "regex": "~"]

    static func queryValue(_ text: String) -> JSON {
        if let number = Int64(text) { return .int(number) }
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        case "null": return .null
        default: return .string(text)
        }
    }
}
