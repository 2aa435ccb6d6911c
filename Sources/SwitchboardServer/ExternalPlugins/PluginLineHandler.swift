import NIOCore
import SwitchboardWire

/// Splits what a plugin writes into lines for `PluginLink` (the protocol socket) and `PluginOutput` (its
/// stdout and stderr), holding at most one unfinished line of `maxLine` bytes. Runs on its channel's event
/// loop only; created inside the channel's initializer.
final class PluginLineHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var framer: LineFramer
    private let onLine: @Sendable (UnsafeRawBufferPointer) -> Void
    private let onTooLong: @Sendable (Int) -> Void
    private let onClose: @Sendable () -> Void
    private var failed = false

    init(maxLine: Int, truncating: Bool = false, onLine: @escaping @Sendable (UnsafeRawBufferPointer) -> Void,
         onTooLong: @escaping @Sendable (Int) -> Void = { _ in }, onClose: @escaping @Sendable () -> Void) {
        self.framer = LineFramer(maxLine: maxLine, truncating: truncating)
        self.onLine = onLine
        self.onTooLong = onTooLong
        self.onClose = onClose
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        let buffer = unwrapInboundIn(data)
        do {
            try buffer.withUnsafeReadableBytes { bytes in try framer.feed(bytes, line: onLine) }
        } catch {
            failed = true
            onTooLong(framer.maxLine)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !failed, let last = framer.finish() { last.withUnsafeBytes { onLine($0) } }
        onClose()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
