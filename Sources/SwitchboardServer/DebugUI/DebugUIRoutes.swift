import Hummingbird
import Synchronization
import SwitchboardCore

/// The routes of the debug UI's port (`dispatcher.frontend-port`, seed 000's 8180): the page, its script and
/// style, and `/ui/settings.json` (the main port, for the "copy as" commands). WebSocket upgrades on this port go
/// to the dialects' own handlers, so the page speaks JSON-RPC to its own origin like any client, and sees only
/// what the user it logs in as may see.
enum DebugUIRoutes {
    /// The main TCP port as bound (it may be 0 in the configuration), set once the main listener runs.
    final class APIPort: Sendable {
        private let port = Atomic<Int>(0)
        func set(_ value: Int) { port.store(value, ordering: .relaxed) }
        var value: Int { port.load(ordering: .relaxed) }
    }

    /// What every answer of this port carries: the page runs only its own script and connects only to its own
    /// origin, and no other site may frame it.
    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        .xContentTypeOptions: "nosniff",
        .cacheControl: "no-store",
    ]

    static func build(apiPort: APIPort) -> Router<SwitchboardRequestContext> {
        let router = Router(context: SwitchboardRequestContext.self)
        for path in ["/", "/index.html"] {
            router.get(RouterPath(path)) { _, _ in asset(DebugUIPage.html, "text/html; charset=utf-8") }
        }
        router.get("/ui.js") { _, _ in asset(DebugUIScript.source, "text/javascript; charset=utf-8") }
        router.get("/ui.css") { _, _ in asset(DebugUIPage.css, "text/css; charset=utf-8") }
        router.get("/ui/settings.json") { _, _ in
            asset((["api_port": .int(Int64(apiPort.value))] as JSON).encodedString(), "application/json")
        }
        return router
    }

    static func asset(_ text: String, _ type: String) -> Response {
        var headers = securityHeaders
        headers[.contentType] = type
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
