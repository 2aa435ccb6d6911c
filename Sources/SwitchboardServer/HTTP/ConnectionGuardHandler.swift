import NIOCore
import SwitchboardCore
import SwitchboardWire

/// The first handler behind the socket (behind TLS when there is TLS): what every connection must do before
/// the daemon spends memory on it, enforced on the raw bytes.
///
/// - A socket over the connection caps is answered 503 and closed as soon as it is accepted.
/// - The first request head must be complete within `headTimeout` (408 and close), and within 32 KiB (431):
///   a silent socket or a slowloris trickling header lines is let go instead of held forever.
/// - A request the HTTP parser refuses is answered 400 and closed (`ConnectionGuardEvent.malformedRequest`):
///   a TLS client on the plain port learns at once that it is talking to the wrong thing.
/// - Once the request asked for a WebSocket, every frame header is checked by `WebSocketFrameWatch` before
///   the frame reaches the decoder: unmasked frames and messages over the limit of the moment (8 KiB before
///   login, `dispatcher.max-message-size` after) close the connection without being buffered.
///
/// Everything here runs on the channel's event loop; after the head, a read costs one header check per frame.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct Settings: Sendable {
        var headTimeout: TimeAmount
        var unauthenticatedMessageSize: Int
        var maxMessageSize: Int
    }

    private enum Phase {
        case head
        case frames
        /// A plain HTTP exchange: nothing more to watch (keep-alive idling is the HTTP channel's timeout).
        case http
        case refused
    }

    private let settings: Settings
    private var phase: Phase = .head
    // Kept apart from `phase` so that they mutate in place: a watch inside an enum payload would copy its
    // buffer on every read.
    private var headWatch = HTTPHeadWatch()
    private var frameWatch = WebSocketFrameWatch()
    private var deadline: Scheduled<Void>?
    private var session: Session?
    /// Set when the socket was over a cap at accept: answered with this and closed.
    private let refusal: String?

    init(settings: Settings, refusal: String?) {
        self.settings = settings
        self.refusal = refusal
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if let refusal {
            refuseHTTP(context, status: "503 Service Unavailable", error: CallError.busy(refusal), retryAfter: true)
            return
        }
        let loop = context.eventLoop.assumeIsolated()
        deadline = loop.scheduleTask(in: settings.headTimeout) { [self] in
            guard case .head = phase else { return }
            let seconds = settings.headTimeout.nanoseconds / 1_000_000_000
            refuseHTTP(context, status: "408 Request Timeout",
                       error: CallError(Errno.ETIMEDOUT, "The request was not received within \(seconds) s"), retryAfter: false)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        switch phase {
        case .refused:
            return
        case .http:
            context.fireChannelRead(data)
        case .frames:
            let verdict = buffer.withUnsafeReadableBytes { inspectFrames($0) }
            guard verdict == .pass else { return refuseWebSocket(context, verdict) }
            context.fireChannelRead(data)
        case .head:
            let outcome = buffer.withUnsafeReadableBytes { headWatch.inspect($0) }
            switch outcome {
            case .incomplete:
                context.fireChannelRead(data)
            case .tooLarge:
                refuseHTTP(context, status: "431 Request Header Fields Too Large",
                           error: CallError(Errno.E2BIG, "The request head exceeds \(headWatch.maxSize) bytes"), retryAfter: false)
            case .complete(let upgrade, let consumed):
                deadline?.cancel()
                deadline = nil
                guard upgrade else {
                    phase = .http
                    return context.fireChannelRead(data)
                }
                phase = .frames
                let verdict = buffer.withUnsafeReadableBytes { inspectFrames(UnsafeRawBufferPointer(rebasing: $0[consumed...])) }
                guard verdict == .pass else { return refuseWebSocket(context, verdict) }
                context.fireChannelRead(data)
            }
        }
    }

    private func inspectFrames(_ bytes: UnsafeRawBufferPointer) -> WebSocketFrameWatch.Verdict {
        let authenticated = session?.isAuthenticated == true
        return frameWatch.inspect(bytes, limit: authenticated ? settings.maxMessageSize : settings.unauthenticatedMessageSize,
                                  authenticated: authenticated)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let event = event as? ConnectionGuardEvent else {
            return context.triggerUserOutboundEvent(event, promise: promise)
        }
        switch event {
        case .malformedRequest:
            refuseHTTP(context, status: "400 Bad Request", error: CallError(Errno.EINVAL, "Malformed HTTP request"), retryAfter: false)
        case .session(let session):
            self.session = session
        }
        promise?.succeed()
    }

    /// Answers with a bare HTTP response written under the HTTP encoder (which may be mid-negotiation), and closes.
    private func refuseHTTP(_ context: ChannelHandlerContext, status: String, error: CallError, retryAfter: Bool) {
        guard !isRefused else { return }
        phase = .refused
        deadline?.cancel()
        let body = (["errno": .int(Int64(error.errno)), "errname": .string(error.errname), "reason": .string(error.reason)] as JSON).encodedBytes()
        var head = "HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
        if retryAfter { head += "Retry-After: 10\r\n" }
        var buffer = context.channel.allocator.buffer(capacity: head.utf8.count + 2 + body.count)
        buffer.writeString(head + "\r\n")
        buffer.writeBytes(body)
        finish(context, with: buffer)
    }

    private func refuseWebSocket(_ context: ChannelHandlerContext, _ verdict: WebSocketFrameWatch.Verdict) {
        guard case .refuse(let code, let reason) = verdict, !isRefused else { return }
        phase = .refused
        let payload = [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(reason.utf8.prefix(123))
        var frame = context.channel.allocator.buffer(capacity: payload.count + 4)
        OutboundFrameWriter.writeFrame(opcode: 0x8, payload: payload, into: &frame)
        finish(context, with: frame)
    }

    /// How long a refused peer may take to read the answer and close its side, before the socket is closed.
    static let lingering: TimeAmount = .seconds(2)

    /// Sends the last bytes, then ends our side only: closing outright with the peer's unread bytes still
    /// queued would reset the connection, and the reset can destroy the answer before the peer reads it.
    /// Meanwhile whatever the peer still sends is dropped unread (`phase` is `.refused`).
    private func finish(_ context: ChannelHandlerContext, with bytes: ByteBuffer) {
        let loop = context.eventLoop.assumeIsolated()
        context.writeAndFlush(wrapOutboundOut(bytes)).whenComplete { _ in
            let halfClosed = context.eventLoop.makePromise(of: Void.self)
            halfClosed.futureResult.whenFailure { _ in context.close(promise: nil) }
            context.close(mode: .output, promise: halfClosed)
            loop.scheduleTask(in: Self.lingering) { context.close(promise: nil) }
        }
    }

    private var isRefused: Bool {
        if case .refused = phase { return true }
        return false
    }
}
