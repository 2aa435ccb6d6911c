import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import SwitchboardCore
#if canImport(Glibc)
import Glibc
#endif

/// A connection to the control socket: admitted only from root or the daemon's own user (SO_PEERCRED), then
/// served as any local connection (HTTP, WebSocket, the same JSON-RPC). The socket file's mode 0600 already keeps
/// other users out; this holds even if someone loosens it.
struct ControlChildChannel: ServerChildChannel {
    typealias Value = GuardedChildChannel.Value

    struct Refused: Error, CustomStringConvertible {
        let uid: UInt32
        var description: String { "the control socket admits root and the daemon's user only, not uid \(uid)" }
    }

    let base: GuardedChildChannel

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        #if canImport(Glibc)
        guard let provider = channel as? any SocketOptionProvider else {
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(Refused(uid: UInt32.max))
        }
        let credentials: EventLoopFuture<KernelPeerCredentials> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return credentials.flatMap { peer in
            guard peer.uid == 0 || peer.uid == getuid() else {
                logger.notice("control socket connection refused", metadata: ["uid": .stringConvertible(peer.uid), "pid": .stringConvertible(peer.pid)])
                channel.close(promise: nil)
                return channel.eventLoop.makeFailedFuture(Refused(uid: peer.uid))
            }
            return base.setup(channel: channel, logger: logger)
        }
        #else
        return base.setup(channel: channel, logger: logger)
        #endif
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
