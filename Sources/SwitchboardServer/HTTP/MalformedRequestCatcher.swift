import NIOCore
import NIOHTTP1

/// The last handler of a connection: when the HTTP parser refuses the request (`HTTPParserError`, e.g. a
/// header line without a colon, or a TLS ClientHello on the plain port), it asks the `ConnectionGuardHandler`
/// to answer 400 and close. Hummingbird would otherwise drop the failed upgrade without a word and leave the
/// peer waiting.
final class MalformedRequestCatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private var reported = false

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError, !reported {
            reported = true
            context.triggerUserOutboundEvent(ConnectionGuardEvent.malformedRequest, promise: nil)
        }
        context.fireErrorCaught(error)
    }
}
