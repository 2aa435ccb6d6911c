import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// The request context of every route: Hummingbird's core storage, the WebSocket hand-off, and the
/// channel, from which the session learns its peer (address, or kernel credentials on the local socket).
public struct SwitchboardRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    private let channelReference: WeakChannel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.channelReference = WeakChannel(source.channel)
    }

    /// The connection's channel while it is open.
    public var channel: (any Channel)? { channelReference.channel }
}

/// A weak hold on a channel. HummingbirdWebSocket 2.8 keeps every WebSocket request context alive after its
/// connection ends (the context's handler box holds a value that holds the context), so a strong reference
/// there kept each closed connection's whole channel, buffers and pipeline (about 10 KiB) for good:
/// `switchboard-bench run conns` grew by that much per connection per round.
final class WeakChannel: @unchecked Sendable {
    // Written once, in init; the channel itself is Sendable.
    private(set) weak var channel: (any Channel)?

    init(_ channel: any Channel) {
        self.channel = channel
    }
}
