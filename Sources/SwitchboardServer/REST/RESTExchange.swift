import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardWire

/// What every REST route does around its call: a session for the one request (its peer, local-socket trust,
/// `Authorization: Basic` or `Bearer` checked by the same login methods every dialect uses), the JSON body
/// within the message size limit, and errors as JSON with an HTTP status that fits their errno.
struct RESTExchange: Sendable {
    let runtime: Runtime
    let limits: CallLimiter.Limits
    let maxBodySize: Int
    /// The TCP listener is TLS-only (`dispatcher.tls`).
    var encryptedTCP = false

    /// A session for this request, logged in from its `Authorization` header when it has one.
    /// - Throws: `CallError` ENOTAUTHENTICATED when the header is there but does not log in.
    func session(for request: Request, context: SwitchboardRequestContext) async throws(CallError) -> Session {
        let session = await PeerCredentials.session(on: context.channel, dialect: DialectName.rest, limits: limits, encryptedTCP: encryptedTCP)
        guard let header = request.headers[.authorization] else { return session }
        let (scheme, value) = Self.split(header)
        switch scheme.lowercased() {
        case "basic":
            guard let decoded = Data(base64Encoded: value).flatMap({ String(data: $0, encoding: .utf8) }),
                  let colon = decoded.firstIndex(of: ":")
            else { throw CallError(Errno.ENOTAUTHENTICATED, "Malformed Basic credentials", kind: .notAuthenticated) }
            let username = String(decoded[..<colon])
            let password = String(decoded[decoded.index(after: colon)...])
            let answer = try await SessionCalls.perform(runtime, session: session, method: MethodName.loginEx, params: [
                ["mechanism": "PASSWORD_PLAIN", "username": .string(username), "password": .string(password)],
            ]).get()
            switch answer["response_type"]?.stringValue {
            case "SUCCESS": break
            // A request cannot carry the second step; the password alone must not let a two-factor account in.
            case "OTP_REQUIRED": throw CallError(Errno.ENOTAUTHENTICATED, Self.needsSecondFactor, kind: .notAuthenticated)
            default: throw CallError(Errno.ENOTAUTHENTICATED, "Authentication failed", kind: .notAuthenticated)
            }
        case "bearer", "token":
            try await EnvelopeRequests.loginWithBearer(value, runtime: runtime, session: session)
        default:
            throw CallError(Errno.ENOTAUTHENTICATED, "Unsupported authorization scheme '\(scheme)'; use Basic or Bearer", kind: .notAuthenticated)
        }
        return session
    }

    static let needsSecondFactor = "This account needs a one-time password, which Basic authentication cannot carry: "
        + "use a token (auth.generate_token after auth.login_ex) or an API key"

    /// The request body, whole, within the message size limit.
    func bytes(_ request: Request) async throws(CallError) -> ByteBuffer {
        var request = request
        do {
            return try await request.collectBody(upTo: maxBodySize)
        } catch {
            throw CallError(Errno.E2BIG, "Request body larger than \(maxBodySize) bytes")
        }
    }

    /// The request body as JSON; nil when it is empty.
    func body(_ request: Request) async throws(CallError) -> JSON? {
        let buffer = try await bytes(request)
        guard buffer.readableBytes > 0 else { return nil }
        do {
            return try buffer.withUnsafeReadableBytes { try JSON.parse(buffer: $0) }
        } catch {
            throw CallError(Errno.EINVAL, "Invalid JSON body: \(error)")
        }
    }

    static func split(_ header: String) -> (String, String) {
        guard let space = header.firstIndex(of: " ") else { return (header, "") }
        return (String(header[..<space]), String(header[header.index(after: space)...]).trimmingCharacters(in: .whitespaces))
    }

    static func json(_ value: JSON, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: value.encodedBytes())))
    }

    /// The error body of `/api/v2.0`: errno, its name, the reason and extra (validation triples).
    static func errorBody(_ error: CallError) -> JSON {
        ["errno": .int(Int64(error.errno)), "errname": .string(error.errname), "reason": .string(error.reason), "extra": error.extra]
    }

    /// An error as every HTTP route answers it: the error body, the status fitting its errno, and a request for
    /// credentials when it is one. `closing`: the request's body may be left unread, so the connection ends.
    static func failure(_ error: CallError, closing: Bool = false) -> Response {
        var fields = headers(for: error)
        if closing { fields[.connection] = "close" }
        return json(errorBody(error), status: status(for: error), headers: fields)
    }

    /// Refusals of authentication ask for credentials, as HTTP clients expect.
    static func headers(for error: CallError) -> HTTPFields {
        status(for: error) == .unauthorized ? [.wwwAuthenticate: "Basic realm=\"Switchboard\", charset=\"UTF-8\""] : [:]
    }

    /// 409 a validation error that is only "already exists", 422 other validation, 401 not logged in, 403 not allowed, 404 no such method or entry, 409 exists, 429 busy or
    /// too many calls, 413 too large, 400 other bad input, 500 anything else.
    static func status(for error: CallError) -> HTTPResponse.Status {
        switch error.kind {
        case .invalidParams:
            let conflict = !error.validation.isEmpty && error.validation.allSatisfy { $0.errno == Errno.EEXIST }
            return conflict ? .conflict : .init(code: 422)
        case .notAuthenticated: return .unauthorized
        case .notAuthorized: return .forbidden
        case .methodNotFound: return .notFound
        case .tooManyConcurrentCalls: return .tooManyRequests
        case .internal: return .internalServerError
        case .call: break
        }
        switch error.errno {
        case Errno.ENOTAUTHENTICATED: return .unauthorized
        case Errno.EACCES, Errno.EPERM: return .forbidden
        case Errno.ENOENT, Errno.ENOMETHOD: return .notFound
        case Errno.EEXIST: return .conflict
        case Errno.EBUSY, Errno.ETOOMANYREFS: return .tooManyRequests
        case Errno.E2BIG: return .contentTooLarge
        case Errno.ESHUTDOWN: return .serviceUnavailable
        case Errno.EINVAL, Errno.ENOTSUP: return .badRequest
        default: return .internalServerError
        }
    }
}
