import Hummingbird
import SwitchboardCore

/// `GET /metrics`: the Prometheus text of `MetricsExport`, to whoever the `metrics` section lets in: anyone when
/// it is public (by default, a loopback listener), else a scraper with the `metrics.bearer-token-file` token, or a
/// client that logs in as REST does (Basic, a token, an API key; root on the local socket) and holds
/// `metrics.role`.
struct MetricsEndpoint: Sendable {
    static let path = "/metrics"
    let export: MetricsExport
    let exchange: RESTExchange
    let settings: MetricsSettings
    let isPublic: Bool

    func handle(_ request: Request, context: SwitchboardRequestContext) async -> Response {
        if let refusal = await refusal(request, context: context) { return refusal }
        let runtime = exchange.runtime
        let plugins = (try? await runtime.callInternal(MethodName.pluginQuery))?.arrayValue ?? []
        let body = export.render(runtime: runtime, plugins: plugins)
        return Response(status: .ok, headers: [.contentType: MetricsExport.contentType], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    func refusal(_ request: Request, context: SwitchboardRequestContext) async -> Response? {
        if isPublic { return nil }
        if let token = settings.bearerToken, let header = request.headers[.authorization] {
            let (scheme, value) = RESTExchange.split(header)
            if scheme.lowercased() == "bearer", value.constantTimeEquals(token) { return nil }
        }
        do throws(CallError) {
            let session = try await exchange.session(for: request, context: context)
            guard let credentials = session.credentials else {
                return failure(CallError(Errno.ENOTAUTHENTICATED, "Metrics need a login, or the scraper's bearer token (metrics.public is off)",
                                         kind: .notAuthenticated))
            }
            guard credentials.allows(anyOf: [settings.role]) else {
                return failure(CallError(Errno.EACCES, "Metrics need the role \(settings.role) (metrics.role)", kind: .notAuthorized))
            }
            return nil
        } catch {
            return failure(error)
        }
    }

    func failure(_ error: CallError) -> Response {
        RESTExchange.failure(error)
    }
}
