import Hummingbird
import HummingbirdWebSocket
import SwitchboardCore

/// The routes of one listener; the TCP port and the local socket serve the same routes.
enum Routes {
    static let jsonRPCPaths = ["/api/current", "/api/v1"]
    /// middlewared 24.x's DDP-style endpoint (seed 001).
    static let ddpPath = "/websocket"

    static func build(runtime: Runtime, configuration: DaemonConfiguration) -> Router<SwitchboardRequestContext> {
        let router = Router(context: SwitchboardRequestContext.self)
        router.get("/health") { _, _ -> Response in
            let body = (["status": "ready", "version": .string(runtime.version)] as JSON).encodedBytes()
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        let connection = DialectConnection(
            runtime: runtime,
            limits: CallLimiter.Limits(maxRunning: configuration.maxRunningCalls, maxQueued: configuration.maxQueuedCalls),
            outboundLimits: OutboundQueue.Limits(maxMessages: configuration.maxOutboundMessages, maxBytes: configuration.maxOutboundBytes),
            maxMessageSize: configuration.maxMessageSize)
        let jsonRPC = JSONRPCWebSocketHandler(connection: connection)
        for path in jsonRPCPaths {
            router.ws(RouterPath(path)) { inbound, outbound, context in
                try await jsonRPC.handle(inbound: inbound, outbound: outbound, context: context)
            }
        }
        let ddp = DDPWebSocketHandler(connection: connection)
        router.ws(RouterPath(ddpPath)) { inbound, outbound, context in
            try await ddp.handle(inbound: inbound, outbound: outbound, context: context)
        }
        return router
    }
}
