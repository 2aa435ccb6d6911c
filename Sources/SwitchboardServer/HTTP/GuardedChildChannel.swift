import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore

/// Hummingbird's HTTP/1 + WebSocket upgrade child channel with the connection guard in front of it and the
/// malformed-request catcher behind it; the socket is counted from accept to close (`ConnectionCounter`).
///
/// Wrapping the child channel, rather than configuring the builder, is what lets the guard sit first in the
/// pipeline (after TLS, which `TLSChannel` adds before calling this `setup`) and see the raw bytes.
struct GuardedChildChannel: ServerChildChannel {
    typealias Value = HTTP1WebSocketUpgradeChannel.Value

    let base: HTTP1WebSocketUpgradeChannel
    let settings: ConnectionGuardHandler.Settings
    let counter: ConnectionCounter
    /// On the local socket: counted in its own pool.
    let local: Bool

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let address = local ? nil : (channel.remoteAddress?.ipAddress ?? "unknown")
            let refusal = counter.admit(address: address)
            if refusal == nil {
                channel.closeFuture.whenComplete { _ in counter.release(address: address) }
            }
            try channel.pipeline.syncOperations.addHandler(ConnectionGuardHandler(settings: settings, refusal: refusal))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }.flatMapThrowing { value in
            try channel.pipeline.syncOperations.addHandler(MalformedRequestCatcher())
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
