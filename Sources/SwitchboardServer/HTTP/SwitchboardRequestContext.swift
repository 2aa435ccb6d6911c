import Hummingbird
import HummingbirdWebSocket
import NIOCore
import Synchronization

/// The request context of every route: Hummingbird's core storage, the WebSocket hand-off, and the
/// channel, from which the session learns its peer (address, or kernel credentials on the local socket).
public struct SwitchboardRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    private let webSocketSlot: WebSocketSlot
    private let channelReference: WeakChannel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocketSlot = WebSocketSlot()
        self.channelReference = WeakChannel(source.channel)
    }

    /// Where the router leaves the WebSocket handler for the upgrade.
    public var webSocket: WebSocketHandlerReference<Self> {
        webSocketSlot.reference.withLock { $0 } ?? WebSocketHandlerReference()
    }

    /// The connection's channel while it is open.
    public var channel: (any Channel)? { channelReference.channel }

    /// Lets go of the WebSocket handler once the connection is over. HummingbirdWebSocket 2.8 stores the
    /// handler and this context in a box that this context holds: a cycle, so without this every WebSocket
    /// connection left its request context (logger and metadata, ~500 bytes) behind for good.
    func releaseWebSocketHandler() {
        webSocketSlot.reference.withLock { $0 = nil }
    }
}

/// The WebSocket handler reference, droppable so the cycle through it can be cut.
final class WebSocketSlot: Sendable {
    let reference = Mutex<WebSocketHandlerReference<SwitchboardRequestContext>?>(WebSocketHandlerReference())
}

/// A weak hold on a channel. A context whose upgrade never reached its handler (the client left mid-upgrade)
/// still stays in the cycle described above; holding the channel strongly there kept a closed connection's
/// whole channel, buffers and pipeline (about 10 KiB) for good, as it did for every connection before
/// `releaseWebSocketHandler` existed.
final class WeakChannel: @unchecked Sendable {
    // Written once, in init; the channel itself is Sendable.
    private(set) weak var channel: (any Channel)?

    init(_ channel: any Channel) {
        self.channel = channel
    }
}
