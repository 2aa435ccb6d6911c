import Hummingbird
import SwitchboardCore
import SwitchboardWire

/// The middlewared-style REST API under `/api/v2.0` (routes from `RESTRoutes`), its OpenAPI document and the
/// human API reference. Results are the methods' JSON results; errors `{"errno","errname","reason","extra"}`.
struct APIv2REST: Sendable {
    static let prefix = "/api/v2.0"
    let exchange: RESTExchange
    /// Whether the docs and the OpenAPI document are served without login (`dispatcher.public-api-docs`).
    var publicDocs = true

    var runtime: Runtime { exchange.runtime }

    func handle(_ request: Request, context: SwitchboardRequestContext) async -> Response {
        let path = String(request.uri.path.dropFirst(Self.prefix.count))
        let routes = RESTRoutes.routes(runtime.registry)
        let matched: (RESTRoute, String?)
        switch RESTRoutes.match(routes, httpMethod: request.method.rawValue, path: path) {
        case .success(let found):
            matched = found
        case .failure(let error) where error.errno == Errno.ENOTSUP:
            let allowed = routes.filter { $0.path == Self.template(of: path, in: routes) }.map(\.httpMethod).sorted().joined(separator: ", ")
            return RESTExchange.json(RESTExchange.errorBody(error), status: .methodNotAllowed, headers: [.allow: allowed])
        case .failure(let error):
            return failure(error)
        }
        do throws(CallError) {
            let session = try await exchange.session(for: request, context: context)
            let body = try await exchange.body(request)
            let query = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
            let params = try RESTRoutes.arguments(for: matched.0, id: matched.1, query: query, body: body)
            return RESTExchange.json(try await SessionCalls.perform(runtime, session: session, method: matched.0.method.name, params: params).get())
        } catch {
            return failure(error)
        }
    }

    func openAPI(_ request: Request, context: SwitchboardRequestContext) async -> Response {
        if let refusal = await docsRefusal(request, context: context) { return refusal }
        return RESTExchange.json(OpenAPIDocument.make(runtime.registry, version: runtime.version))
    }

    /// `GET /api/openrpc.json`: the document `rpc.discover` answers, for tools that read it over HTTP, under the
    /// same access rule as the OpenAPI document. Private methods are never listed here.
    func openRPC(_ request: Request, context: SwitchboardRequestContext) async -> Response {
        if let refusal = await docsRefusal(request, context: context) { return refusal }
        return RESTExchange.json(OpenRPCDocument.make(RegistryView(runtime: runtime), version: runtime.version))
    }

    func docs(_ request: Request, context: SwitchboardRequestContext) async -> Response {
        if let refusal = await docsRefusal(request, context: context) { return refusal }
        let page = APIDocsPage.render(registry: runtime.registry, events: runtime.events.types, version: runtime.version)
        return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: page)))
    }

    /// Unless the docs are public, they describe the API only to a logged-in client, as `core.get_methods`
    /// does: a browser is asked for a username and password (401 with `WWW-Authenticate: Basic`).
    func docsRefusal(_ request: Request, context: SwitchboardRequestContext) async -> Response? {
        guard !publicDocs else { return nil }
        do throws(CallError) {
            let session = try await exchange.session(for: request, context: context)
            if session.isAuthenticated { return nil }
            return failure(CallError(Errno.ENOTAUTHENTICATED, "The API description needs a login (dispatcher.public-api-docs is off)",
                                     kind: .notAuthenticated))
        } catch {
            return failure(error)
        }
    }

    func failure(_ error: CallError) -> Response {
        RESTExchange.failure(error)
    }

    /// The template a concrete path matched (`/user/id/{id}` for `/user/id/3`), for the `Allow` header.
    static func template(of path: String, in routes: [RESTRoute]) -> String? {
        for route in routes {
            if case .success((let found, _)) = RESTRoutes.match([route], httpMethod: route.httpMethod, path: path) { return found.path }
        }
        return nil
    }
}
