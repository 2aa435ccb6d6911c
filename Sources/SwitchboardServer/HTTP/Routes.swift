import Hummingbird
import HummingbirdWebSocket
import SwitchboardCore
import SwitchboardWire

/// The routes of one listener; the TCP port and the local socket serve the same routes.
enum Routes {
    static let jsonRPCPaths = ["/api/current", "/api/v1"]
    /// middlewared 24.x's DDP-style endpoint (seed 001).
    static let ddpPath = "/websocket"
    /// The envelope dialect of the FreeNAS 10 dispatcher (`/socket`) and sysadm (`/`).
    static let envelopePaths = ["/socket", "/"]
    /// The OpenRPC document of the JSON-RPC dialect, beside its endpoints.
    static let openRPCPath = "/api/openrpc.json"

    static func build(runtime: Runtime, configuration: DaemonConfiguration, metrics: MetricsExport? = nil) -> Router<SwitchboardRequestContext> {
        let router = Router(context: SwitchboardRequestContext.self)
        router.get("/health") { _, _ -> Response in
            let body = (["status": "ready", "version": .string(runtime.version)] as JSON).encodedBytes()
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        var connection = DialectConnection(
            runtime: runtime,
            limits: CallLimiter.Limits(maxRunning: configuration.maxRunningCalls, maxQueued: configuration.maxQueuedCalls),
            outboundLimits: OutboundQueue.Limits(maxMessages: configuration.maxOutboundMessages, maxBytes: configuration.maxOutboundBytes),
            maxMessageSize: configuration.maxMessageSize)
        // The lower limits never exceed the cap: a message over the cap is not read at all.
        connection.unauthenticatedMessageSize = min(configuration.maxMessageSizeUnauthenticated, configuration.maxMessageSize)
        connection.authenticatedMessageSize = min(configuration.maxMessageSizeAuthenticated, configuration.maxMessageSize)
        connection.encryptedTCP = configuration.tls
        let jsonRPC = JSONRPCWebSocketHandler(connection: connection)
        for path in jsonRPCPaths {
            router.ws(RouterPath(path)) { inbound, outbound, context in
                try await jsonRPC.handle(inbound: inbound, outbound: outbound, context: context)
            }
        }
        let ddp = DDPWebSocketHandler(connection: connection, heartbeat: configuration.ddpHeartbeat)
        router.ws(RouterPath(ddpPath)) { inbound, outbound, context in
            try await ddp.handle(inbound: inbound, outbound: outbound, context: context)
        }
        let requests = EnvelopeRequests(runtime: runtime, tokenLifetime: configuration.envelopeTokenLifetime,
                                        freenasEvents: configuration.envelopeEvents == .freenas)
        let envelope = EnvelopeWebSocketHandler(connection: connection, requests: requests)
        for path in envelopePaths {
            router.ws(RouterPath(path)) { inbound, outbound, context in
                try await envelope.handle(inbound: inbound, outbound: outbound, context: context)
            }
        }
        var exchange = RESTExchange(runtime: runtime, limits: connection.limits, maxBodySize: configuration.maxMessageSize)
        exchange.encryptedTCP = configuration.tls
        let v2 = APIv2REST(exchange: exchange, publicDocs: configuration.resolvedPublicAPIDocs)
        router.get(RouterPath(APIv2REST.prefix + "/openapi.json")) { request, context in await v2.openAPI(request, context: context) }
        router.get(RouterPath(openRPCPath)) { request, context in await v2.openRPC(request, context: context) }
        router.get("/api/docs") { request, context in await v2.docs(request, context: context) }
        // PATCH too, though no route takes it: a client that tries it is told 405 and the methods allowed, in
        // the API's JSON error shape, rather than the router's bare 404.
        for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch] {
            router.on(RouterPath(APIv2REST.prefix + "/**"), method: method) { request, context in await v2.handle(request, context: context) }
        }
        if let metrics {
            let endpoint = MetricsEndpoint(export: metrics, exchange: exchange, settings: configuration.metrics,
                                           isPublic: configuration.resolvedPublicMetrics)
            router.get(RouterPath(MetricsEndpoint.path)) { request, context in await endpoint.handle(request, context: context) }
        }
        let pluginRoutes = PluginHTTPRoutes(exchange: exchange, routes: runtime.httpRoutes)
        for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch] {
            router.on(RouterPath(HTTPRouteTable.prefix + "**"), method: method) { request, context in
                await pluginRoutes.handle(request, context: context)
            }
        }
        let upload = UploadRoute(exchange: exchange)
        router.post(RouterPath(UploadRoute.path)) { request, context in await upload.handle(request, context: context) }
        let download = DownloadRoute(runtime: runtime)
        router.get(RouterPath(DownloadRoute.path + "/:id")) { request, context in await download.handle(request, context: context) }
        let sysadm = SysadmREST(exchange: exchange, requests: requests)
        for method in [HTTPRequest.Method.put, .post] {
            router.on("/:namespace/:name", method: method) { request, context in await sysadm.handle(request, context: context) }
        }
        return router
    }
}
