import HTTPTypes
import Hummingbird
import SwitchboardCore

/// Serves the HTTP routes plugins register (`/plugins/<plugin>/...`): the request is authenticated as every
/// REST request is (`RESTExchange`), the route's roles are checked, and the plugin's handler answers. A path no
/// route serves is a 404 and a method it does not take a 405 with `Allow`, in the REST error shape.
struct PluginHTTPRoutes: Sendable {
    let exchange: RESTExchange
    let routes: HTTPRouteTable

    func handle(_ request: Request, context: SwitchboardRequestContext) async -> Response {
        let path = request.uri.path
        let method = request.method.rawValue
        guard let route = routes.route(method: method, path: path) else {
            let allowed = routes.methods(path: path)
            if allowed.isEmpty {
                return RESTExchange.json(RESTExchange.errorBody(CallError(Errno.ENOENT, "No route \(path)")), status: .notFound)
            }
            var headers = HTTPFields()
            headers[.allow] = allowed.joined(separator: ", ")
            return RESTExchange.json(RESTExchange.errorBody(CallError(Errno.EINVAL, "\(method) is not allowed on \(path)")),
                                     status: .methodNotAllowed, headers: headers)
        }
        do {
            let session = try await exchange.session(for: request, context: context)
            if !route.isPublic {
                guard let credentials = session.credentials else { throw CallError.notAuthenticated }
                guard credentials.allows(anyOf: route.roles) else { throw CallError.notAuthorized }
            }
            let buffer = try await exchange.bytes(request)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let routeRequest = HTTPRouteRequest(method: method, path: path, query: request.uri.query ?? "", headers: headers,
                                                body: Array(buffer.readableBytesView), session: session)
            let answer = try await route.handler(routeRequest)
            var fields = HTTPFields()
            for (name, value) in answer.headers {
                if let field = HTTPField.Name(name) { fields[field] = value }
            }
            return Response(status: .init(code: answer.status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
        } catch let error as CallError {
            return RESTExchange.failure(error)
        } catch {
            let failure = CallError(Errno.EFAULT, "\(error)")
            return RESTExchange.json(RESTExchange.errorBody(failure), status: .internalServerError)
        }
    }
}
