import Synchronization
import SwitchboardCore

/// What an envelope request means, for the WebSocket (`/socket`, `/`) and the sysadm REST routes alike:
/// `rpc/*` and `events/*` requests become calls of the one pipeline (`auth.login`, `core.subscribe`,
/// `core.emit_event`, ...), and any other `<namespace>/<name>` names a method. Nothing here checks rights or
/// validates: the pipeline does.
public struct EnvelopeRequests: Sendable {
    public let runtime: Runtime
    /// Lifetime of the token `rpc/auth` hands out.
    public let tokenLifetime: Int
    /// `dispatcher.envelope-events` is `freenas`: every connection gets FreeNAS 10's event frames and
    /// `rpc/auth` answers FreeNAS 10's `[token, lifetime, username]`.
    public let freenasEvents: Bool

    public init(runtime: Runtime, tokenLifetime: Int = 600, freenasEvents: Bool = false) {
        self.runtime = runtime
        self.tokenLifetime = tokenLifetime
        self.freenasEvents = freenasEvents
    }

    /// The reply to one request: the whole envelope, `response`, `error`, or with `streaming_responses` a
    /// query's first `fragment` (or `end`); nil for a message answered with nothing (`rpc/abort`).
    ///
    /// - Parameter state: `nil` where events and streams cannot be delivered (REST); `events/*` is then refused.
    public func reply(id: JSON, namespace: String, name: String, args: JSON, session: Session, state: EnvelopeConnectionState?) async -> JSON? {
        do throws(CallError) {
            if let state, namespace == "rpc" {
                switch name {
                case "call" where session.options.features.contains(Self.streamingFeature):
                    return try await streamedCall(id: id, args: args, session: session, state: state)
                case "continue":
                    return try await fragment(id: id, state: state)
                case "abort":
                    guard state.close(Self.streamKey(id)) else { throw CallError(Errno.ENOENT, "Invalid call") }
                    return nil
                default: break
                }
            }
            let (replyNamespace, result) = try await perform(namespace: namespace, name: name, args: args, session: session, state: state)
            // FreeNAS 10 answers an event its client emits with nothing; only a refusal is told.
            if namespace == "events", Self.emitNames.contains(name) { return nil }
            return EnvelopeCodec.response(id: id, namespace: replyNamespace, args: result)
        } catch {
            return EnvelopeCodec.error(id: id, error: error)
        }
    }

    /// The namespace of the response (`events` or `rpc`) and its args.
    public func perform(namespace: String, name: String, args: JSON, session: Session, state: EnvelopeConnectionState?) async throws(CallError) -> (String, JSON) {
        switch (namespace, name) {
        case ("rpc", "call"):
            let (method, arguments) = try Self.rpcCall(args)
            return ("rpc", try await call(method, arguments: arguments, session: session, state: state))
        case ("rpc", "auth"):
            let username = try Self.string(args, "username")
            let password = try Self.string(args, "password")
            // FreeNAS 10's rpc/auth knows no second factor; an account that needs one adds `otp_token`.
            let code = args["otp_token"]?.stringValue.map(JSON.string) ?? .null
            guard try await call(MethodName.login, [.string(username), .string(password), code], session: session) == true else {
                throw CallError(Errno.ENOTAUTHENTICATED, "Authentication failed", kind: .notAuthenticated)
            }
            return ("rpc", try await issueToken(session, state))
        case ("rpc", "auth_token"):
            let token = try Self.string(args, "token")
            try await Self.loginWithToken(token, runtime: runtime, session: session)
            return ("rpc", try await issueToken(session, state))
        case ("rpc", "auth_clear"):
            if session.isAuthenticated { _ = try await call(MethodName.logout, [], session: session) }
            return ("rpc", "SUCCESS")
        case ("rpc", "identify"):
            return ("rpc", ["type": "server", "hostname": .string(Runtime.hostname)])
        case ("events", "subscribe"):
            guard let state else { throw Self.eventsNeedWebSocket }
            return ("events", ["subscribe": .array(try await subscribe(try Self.names(args), session: session, state))])
        case ("events", "unsubscribe"):
            guard let state else { throw Self.eventsNeedWebSocket }
            return ("events", ["unsubscribe": .array(try await unsubscribe(try Self.names(args), session: session, state))])
        case ("events", "event"):
            try await emit([try Self.emitted(args, path: "args")], session: session)
            return ("events", .null)
        case ("events", "event_burst"):
            try await emit(try Self.burst(args), session: session)
            return ("events", .null)
        default:
            let (method, arguments) = try resolve(namespace: namespace, name: name, args: args)
            return ("rpc", try await call(method, arguments: arguments, session: session, state: state))
        }
    }

    /// The method a request calls, as `perform` would call it: what the connection's size limit asks (a method
    /// may declare a larger limit), read from the same mapping so that the two cannot disagree. nil when the
    /// request names no method (yet).
    public func method(namespace: String, name: String, args: JSON) -> String? {
        switch (namespace, name) {
        case ("rpc", "call"): return args["method"]?.stringValue
        case ("rpc", "auth"): return MethodName.login
        case ("rpc", "auth_token"): return MethodName.loginEx
        case ("rpc", "auth_clear"): return MethodName.logout
        case ("rpc", "identify"): return nil
        case ("events", "subscribe"): return MethodName.subscribe
        case ("events", "unsubscribe"): return MethodName.unsubscribe
        case ("events", "event"), ("events", "event_burst"): return MethodName.emitEvent
        default: return try? resolve(namespace: namespace, name: name, args: args).0
        }
    }

    /// sysadm's class requests: `<namespace>/<name>` is the method `<namespace>.<name>` when there is one, else
    /// `<name>.<action>` with `action` taken from the args (`rpc/dispatcher {"action":"list"}` -> `dispatcher.list`).
    func resolve(namespace: String, name: String, args: JSON) throws(CallError) -> (String, JSON) {
        let direct = namespace + "." + name
        if runtime.registry.method(direct) != nil { return (direct, args) }
        if case .object(var object) = args, case .string(let action)? = object.removeValue(forKey: "action") {
            let method = name + "." + action
            if runtime.registry.method(method) != nil { return (method, .object(object)) }
            throw CallError(Errno.ENOMETHOD, "\(namespace)/\(name) has no action '\(action)'", kind: .methodNotFound)
        }
        throw CallError(Errno.ENOMETHOD, "Method \(namespace)/\(name) does not exist", kind: .methodNotFound)
    }

    /// The method and arguments of an `rpc/call` request.
    static func rpcCall(_ args: JSON) throws(CallError) -> (String, JSON) {
        guard case .object(let request) = args, case .string(let method)? = request["method"], !method.isEmpty else {
            throw CallError.validation("args.method", "rpc/call takes {\"method\": \"service.method\", \"args\": [..] or {..}}")
        }
        return (method, request["args"] ?? .null)
    }

    /// Calls the method a request names, its arguments positional or by name. `fragments`: the client takes the
    /// answer in fragments (`streaming_responses`).
    func call(_ method: String, arguments: JSON, session: Session, state: EnvelopeConnectionState?,
              fragments: FragmentedAnswer? = nil) async throws(CallError) -> JSON {
        let params = Self.positional(arguments, for: runtime.registry.method(method))
        let result = try await SessionCalls.perform(runtime, session: session, method: method, params: params, fragments: fragments).get()
        // Only FreeNAS 10's clients negotiate features: from now on this connection hears events as they do.
        if method == MethodName.enableFeatures { state?.useFreeNASFrames() }
        return result
    }

    func call(_ method: String, _ params: [JSON], session: Session) async throws(CallError) -> JSON {
        try await SessionCalls.perform(runtime, session: session, method: method, params: params).get()
    }

    /// A fresh token for the session just logged in: `[token, lifetime_seconds]`, and FreeNAS 10's username after
    /// them for a FreeNAS 10 connection.
    func issueToken(_ session: Session, _ state: EnvelopeConnectionState?) async throws(CallError) -> JSON {
        let token = try await call(MethodName.generateToken, [.int(Int64(tokenLifetime))], session: session)
        guard state?.freenasFrames == true, let username = session.credentials?.username else { return [token, .int(Int64(tokenLifetime))] }
        return [token, .int(Int64(tokenLifetime)), .string(username)]
    }

    func subscribe(_ names: [String], session: Session, _ state: EnvelopeConnectionState) async throws(CallError) -> [JSON] {
        var added: [String] = []
        for name in names where state.bus(name) == nil {
            do {
                let bus = try await call(MethodName.subscribe, [.string(name)], session: session)
                state.add(name, bus: bus.stringValue ?? "")
                added.append(name)
            } catch {
                // All or nothing: a request that fails on one name leaves no subscription behind.
                _ = try? await unsubscribe(added, session: session, state)
                throw error
            }
        }
        return names.map { .string($0) }
    }

    func unsubscribe(_ names: [String], session: Session, _ state: EnvelopeConnectionState) async throws(CallError) -> [JSON] {
        var removed: [JSON] = []
        for name in names {
            guard let bus = state.remove(name) else { continue }
            _ = try? await call(MethodName.unsubscribe, [.string(bus)], session: session)
            removed.append(.string(name))
        }
        return removed
    }

    /// Positional parameters from envelope args: an array as it is; an object whose keys are all parameter names
    /// of the method as named arguments (`{"id": 3}` for `user.get_instance`); any other value as the one argument.
    public static func positional(_ args: JSON, for method: MethodDescriptor?) -> [JSON] {
        switch args {
        case .null: return []
        case .array(let list): return list
        case .object(let object):
            guard let method else { return [args] }
            if object.isEmpty { return method.params.isEmpty ? [] : [args] }
            return NamedArguments.positional(object, params: method.params[...]) ?? [args]
        default: return [args]
        }
    }

    static func string(_ args: JSON, _ key: String) throws(CallError) -> String {
        guard case .string(let value)? = args[key] else { throw CallError.validation("args.\(key)", "A string is required") }
        return value
    }

    /// `events/subscribe` takes a name or a list of names and masks.
    static func names(_ args: JSON) throws(CallError) -> [String] {
        switch args {
        case .string(let name) where !name.isEmpty: return [name]
        case .array(let list) where !list.isEmpty:
            var names: [String] = []
            for (index, item) in list.enumerated() {
                guard case .string(let name) = item, !name.isEmpty else {
                    throw CallError.validation("args.\(index)", "An event name or mask (a non-empty string) is required")
                }
                names.append(name)
            }
            return names
        default:
            throw CallError.validation("args", "An event name, a mask such as \"task.*\", or a list of them is required")
        }
    }

    /// Logs `session` in with a token; a refusal says why (invalid, expired, already used, wrong address).
    /// Shared by the envelope's `rpc/auth_token` and REST's `Bearer`.
    public static func loginWithToken(_ token: String, runtime: Runtime, session: Session) async throws(CallError) {
        let answer = try await SessionCalls.perform(runtime, session: session, method: MethodName.loginEx,
                                                    params: [["mechanism": "TOKEN_PLAIN", "token": .string(token)]]).get()
        guard answer["response_type"] == "SUCCESS" else {
            throw CallError(Errno.ENOTAUTHENTICATED, answer["reason"]?.stringValue ?? "Invalid token", kind: .notAuthenticated)
        }
    }

    /// Logs `session` in with an API key; a refusal says why (invalid, revoked, expired, or sent unencrypted).
    public static func loginWithAPIKey(_ key: String, runtime: Runtime, session: Session) async throws(CallError) {
        let answer = try await SessionCalls.perform(runtime, session: session, method: MethodName.loginEx,
                                                    params: [["mechanism": "API_KEY_PLAIN", "api_key": .string(key)]]).get()
        guard answer["response_type"] == "SUCCESS" else {
            throw CallError(Errno.ENOTAUTHENTICATED, answer["reason"]?.stringValue ?? "Invalid API key", kind: .notAuthenticated)
        }
    }

    /// A bearer credential is an API key when it reads `<digits>-<secret>` (tokens hold no dash), else a token.
    public static func loginWithBearer(_ value: String, runtime: Runtime, session: Session) async throws(CallError) {
        if let dash = value.firstIndex(of: "-"), dash != value.startIndex, value[..<dash].allSatisfy(\.isASCII), Int64(value[..<dash]) != nil {
            try await loginWithAPIKey(value, runtime: runtime, session: session)
        } else {
            try await loginWithToken(value, runtime: runtime, session: session)
        }
    }

    static let eventsNeedWebSocket = CallError(Errno.ENOTSUP, "Events are delivered over a WebSocket connection (/socket), not over REST")
}
