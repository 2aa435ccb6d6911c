import HTTPTypes
import Hummingbird
import SwitchboardCore
import SwitchboardWire

/// sysadm's REST form of the envelope dialect: `PUT` or `POST /<namespace>/<name>` with the args object as the
/// body (`PUT /rpc/dispatcher {"action":"list"}`). The answer is the very envelope the WebSocket would send,
/// with an HTTP status that fits it; the request id is the `X-Request-Id` header's, else "".
struct SysadmREST: Sendable {
    let exchange: RESTExchange
    let requests: EnvelopeRequests

    static let requestIDHeader = HTTPField.Name("X-Request-Id")

    func handle(_ request: Request, context: SwitchboardRequestContext) async -> Response {
        let id: JSON = Self.requestIDHeader.flatMap { request.headers[$0] }.map { .string($0) } ?? ""
        do throws(CallError) {
            guard let namespace = context.parameters.get("namespace"), let name = context.parameters.get("name") else {
                throw CallError(Errno.ENOENT, "No such endpoint")
            }
            let session = try await exchange.session(for: request, context: context)
            let args = try await exchange.body(request) ?? .null
            let (replyNamespace, result) = try await requests.perform(namespace: namespace, name: name, args: args, session: session, state: nil)
            return RESTExchange.json(EnvelopeCodec.response(id: id, namespace: replyNamespace, args: result))
        } catch {
            return RESTExchange.json(EnvelopeCodec.error(id: id, error: error), status: RESTExchange.status(for: error),
                                     headers: RESTExchange.headers(for: error))
        }
    }
}
