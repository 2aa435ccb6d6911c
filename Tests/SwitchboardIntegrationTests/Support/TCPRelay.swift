import NIOCore
import NIOPosix
import Synchronization

/// A TCP relay on 127.0.0.1 in front of a real server, to take the network away and give it back: `cut()`
/// closes the listener and every relayed connection (the server looks gone: connections reset, new ones
/// refused), `restore()` listens again on the same port.
final class TCPRelay: Sendable {
    let targetPort: Int
    private let state = Mutex<(port: Int, listener: (any Channel)?, links: [any Channel])>((0, nil, []))

    var port: Int { state.withLock { $0.port } }

    init(targetPort: Int) async throws {
        self.targetPort = targetPort
        try await listen(port: 0)
    }

    func cut() async {
        let (listener, links) = state.withLock { state -> ((any Channel)?, [any Channel]) in
            defer { state.listener = nil; state.links = [] }
            return (state.listener, state.links)
        }
        try? await listener?.close()
        for link in links { try? await link.close() }
    }

    func restore() async throws {
        try await listen(port: port)
    }

    private func listen(port: Int) async throws {
        let target = targetPort
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [weak self] inbound in
                inbound.setOption(.autoRead, value: false).flatMap {
                    ClientBootstrap(group: inbound.eventLoop).connect(host: "127.0.0.1", port: target)
                }.flatMap { outbound in
                    self?.state.withLock { $0.links += [inbound, outbound] }
                    let (forward, backward) = RelayHandler.pair()
                    forward.peer = outbound
                    backward.peer = inbound
                    // The client speaks first in PostgreSQL's protocol: nothing reaches `outbound` before this.
                    return inbound.pipeline.addHandler(forward).flatMap { outbound.pipeline.addHandler(backward) }.flatMap {
                        inbound.setOption(.autoRead, value: true)
                    }
                }.flatMapError { error in inbound.close().flatMapThrowing { throw error } }
            }
            .bind(host: "127.0.0.1", port: port)
            .get()
        state.withLock {
            $0.listener = listener
            $0.port = listener.localAddress?.port ?? port
        }
    }
}

/// Copies what one side reads to the other, and closes the other when one closes.
private final class RelayHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    /// Set on the channel's loop before the first read; the other side of the relay.
    var peer: (any Channel)?

    static func pair() -> (RelayHandler, RelayHandler) { (RelayHandler(), RelayHandler()) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        peer?.writeAndFlush(data, promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        peer?.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
