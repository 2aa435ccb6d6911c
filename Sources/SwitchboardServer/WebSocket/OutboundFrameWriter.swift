import Logging
import NIOCore
import NIOWebSocket
#if canImport(Glibc)
import Glibc
#endif
import SwitchboardCore

/// Writes a connection's `OutboundQueue` to its WebSocket channel, below HummingbirdWebSocket's per-message
/// writer: the frames taken in one wake are framed (header + payload, unmasked, as a server sends them) into
/// one buffer, written once and flushed once, on the channel's event loop, with no task per connection.
///
/// It sits just before NIO's `WebSocketFrameEncoder` (towards the socket), so its buffers skip the encoder
/// and the handlers above it, while Hummingbird's own frames (pongs, close frames) pass through it on their
/// way down. Each write holds whole frames, so frames never interleave. It stops taking while the channel
/// is not writable (NIO's high-water mark) and resumes on the writability change, so unsent data waits in
/// the bounded queue, not in NIO.
///
/// On overflow the client is told why with a close frame, 1008 "outbound queue full: client too slow", and
/// closed once that frame has left; if it has not left within `closeGrace` (the client stopped reading, so
/// nothing will), the connection is reset: the data the kernel still holds for it is stale.
final class OutboundFrameWriter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = ByteBuffer

    static let overflowCloseCode = WebSocketErrorCode.policyViolation
    static let overflowReason = "outbound queue full: client too slow"
    /// Bytes taken from the queue per write call; the loop goes on while the channel stays writable.
    static let batchBytes = 256 << 10

    private var context: ChannelHandlerContext?
    private var queue: OutboundQueue?
    private let logger: Logger
    private let sessionID: String
    private let closeGrace: TimeAmount
    private var closing = false

    init(logger: Logger, sessionID: String, closeGrace: TimeAmount = .seconds(2)) {
        self.logger = logger
        self.sessionID = sessionID
        self.closeGrace = closeGrace
    }

    /// Creates the connection's queue, wired to a writer added to `channel`'s pipeline.
    static func install(on channel: any Channel, limits: OutboundQueue.Limits, counters: TrafficCounters, logger: Logger,
                        sessionID: String) async throws -> OutboundQueue {
        try await channel.eventLoop.submit {
            let writer = OutboundFrameWriter(logger: logger, sessionID: sessionID)
            let bound = NIOLoopBound(writer, eventLoop: channel.eventLoop)
            let queue = OutboundQueue(limits: limits, executor: EventLoopExecutor(loop: channel.eventLoop), counters: counters) { wake in
                // On the channel's event loop.
                switch wake {
                case .frames: bound.value.drain()
                case .overflowed: bound.value.overflowed()
                case .close(let code, let reason): bound.value.close(code: code, reason: reason)
                }
            }
            writer.queue = queue
            let encoder = try channel.pipeline.syncOperations.handler(type: WebSocketFrameEncoder.self)
            try channel.pipeline.syncOperations.addHandler(writer, position: .before(encoder))
            return queue
        }.get()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        queue?.finish()
        queue = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        queue?.finish()
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { drain() }
        context.fireChannelWritabilityChanged()
    }

    /// Writes what is queued while the channel takes it, then flushes once.
    func drain() {
        guard let context, let queue, !closing else { return }
        var wrote = false
        while context.channel.isWritable {
            let batch = queue.take(maxBytes: Self.batchBytes)
            if batch.isEmpty { break }
            var buffer = context.channel.allocator.buffer(capacity: batch.reduce(0) { $0 + $1.count + 10 })
            for frame in batch { Self.writeFrame(opcode: 0x1, payload: frame, into: &buffer) }
            context.write(wrapOutboundOut(buffer), promise: nil)
            wrote = true
        }
        if wrote { context.flush() }
    }

    func overflowed() {
        guard let context, !closing else { return }
        closing = true
        let limits = queue.map { "\($0.limits.maxMessages) messages / \($0.limits.maxBytes) bytes" } ?? ""
        logger.warning("closing a connection that stopped reading", metadata: [
            "session": .string(sessionID), "remote": .string(Self.describe(context.channel.remoteAddress)),
            "limit": .string(limits), "close_code": .string("1008"),
        ])
        sendClose(context, code: UInt16(webSocketErrorCode: Self.overflowCloseCode), reason: Self.overflowReason)
    }

    /// Closes on purpose: what is queued goes first, then the close frame.
    func close(code: UInt16, reason: String) {
        drain()
        guard let context, !closing else { return }
        closing = true
        logger.notice("closing a connection", metadata: [
            "session": .string(sessionID), "remote": .string(Self.describe(context.channel.remoteAddress)),
            "close_code": .stringConvertible(code), "reason": .string(reason),
        ])
        sendClose(context, code: code, reason: reason)
    }

    /// Sends a close frame and closes the channel once it has left, or resets it after `closeGrace` when it
    /// cannot leave (a peer that reads nothing).
    private func sendClose(_ context: ChannelHandlerContext, code: UInt16, reason: String) {
        // A close frame's payload: the code, big-endian, then the reason (at most 123 bytes).
        let payload = [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(reason.utf8.prefix(123))
        var frame = context.channel.allocator.buffer(capacity: payload.count + 2)
        Self.writeFrame(opcode: 0x8, payload: payload, into: &frame)
        let channel = context.channel
        let sent = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(frame), promise: sent)
        sent.futureResult.whenSuccess { channel.close(promise: nil) }
        context.eventLoop.scheduleTask(in: closeGrace) {
            guard channel.isActive else { return }
            // Reset rather than close: a FIN would wait behind megabytes the peer is not reading.
            if let provider = channel as? any SocketOptionProvider {
                provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
            } else {
                channel.close(promise: nil)
            }
        }
    }

    /// `10.0.0.7:53122`, or `local` for the UNIX socket.
    static func describe(_ address: SocketAddress?) -> String {
        guard let address, let ip = address.ipAddress else { return "local" }
        return "\(ip):\(address.port ?? 0)"
    }

    /// One final, unmasked frame: what RFC 6455 section 5.2 says a server sends.
    static func writeFrame(opcode: UInt8, payload: [UInt8], into buffer: inout ByteBuffer) {
        buffer.writeInteger(0x80 | opcode)
        switch payload.count {
        case ..<126:
            buffer.writeInteger(UInt8(payload.count))
        case ..<65_536:
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(payload.count))
        default:
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(payload.count))
        }
        buffer.writeBytes(payload)
    }
}

/// A NIO event loop as the thread that owns its connections' outbound queues.
struct EventLoopExecutor: OutboundExecutor {
    let loop: any EventLoop

    var key: ObjectIdentifier { ObjectIdentifier(loop) }

    func execute(_ work: @escaping @Sendable () -> Void) {
        loop.execute(work)
    }
}
