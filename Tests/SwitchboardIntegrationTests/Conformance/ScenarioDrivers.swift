import Foundation
import SwitchboardClient
import SwitchboardCore

/// An event as every dialect carries it: kind, collection, id and fields.
struct ScenarioEvent: Sendable {
    var kind: String
    var collection: String
    var id: JSON
    var fields: JSON
}

/// A call failure as every dialect reports it: errno and the attributes of its validation triples.
struct ScenarioError: Error, CustomStringConvertible {
    var errno: Int64
    var reason: String
    var attributes: [String]
    var description: String { "[\(errno)] \(reason) \(attributes)" }
}

/// What the shared scenario needs from a dialect: nothing else differs between them.
protocol ScenarioDriver: Sendable {
    var dialect: String { get }
    /// The errno a validation failure is reported with (DDP says 11 EAGAIN, as middlewared does).
    var validationErrno: Int64 { get }
    func login(_ username: String, _ password: String) async throws
    /// The result; a failure throws `ScenarioError`.
    func call(_ method: String, _ params: [JSON]) async throws -> JSON
    /// nil for a dialect without events (REST): progress is then polled.
    func subscribe(_ event: String) async throws -> Bool
    func nextEvent() async throws -> ScenarioEvent
    func close() async
}

/// The WebSocket dialects: requests matched to replies by id, events kept in order while a reply is awaited.
final class FrameDriver: ScenarioDriver, @unchecked Sendable {
    // Used by the one scenario task that owns it.
    let dialect: String
    let validationErrno: Int64
    let ws: WebSocketConnection
    private var events: [ScenarioEvent] = []
    private var counter = 0
    /// The request frame for a call with this id.
    let encodeCall: @Sendable (_ id: String, _ method: String, _ params: [JSON]) -> JSON
    /// The reply to request `id` in this frame, if it is one.
    let decodeReply: @Sendable (_ frame: JSON, _ id: String) -> Result<JSON, ScenarioError>?
    let decodeEvent: @Sendable (JSON) -> ScenarioEvent?
    let subscribeFrames: @Sendable (_ id: String, _ event: String) -> JSON

    init(dialect: String, validationErrno: Int64 = 22, ws: WebSocketConnection,
         encodeCall: @escaping @Sendable (String, String, [JSON]) -> JSON,
         decodeReply: @escaping @Sendable (JSON, String) -> Result<JSON, ScenarioError>?,
         decodeEvent: @escaping @Sendable (JSON) -> ScenarioEvent?,
         subscribeFrames: @escaping @Sendable (String, String) -> JSON) {
        self.dialect = dialect
        self.validationErrno = validationErrno
        self.ws = ws
        self.encodeCall = encodeCall
        self.decodeReply = decodeReply
        self.decodeEvent = decodeEvent
        self.subscribeFrames = subscribeFrames
    }

    func nextID() -> String {
        counter += 1
        return "r\(counter)"
    }

    func login(_ username: String, _ password: String) async throws {
        guard try await call("auth.login", [.string(username), .string(password)]) == true else {
            throw ScenarioError(errno: 207, reason: "login refused", attributes: [])
        }
    }

    func call(_ method: String, _ params: [JSON]) async throws -> JSON {
        let id = nextID()
        try await ws.send(encodeCall(id, method, params).encodedString())
        return try await reply(id).get()
    }

    func subscribe(_ event: String) async throws -> Bool {
        let id = nextID()
        try await ws.send(subscribeFrames(id, event).encodedString())
        _ = try await reply(id).get()
        return true
    }

    func reply(_ id: String) async throws -> Result<JSON, ScenarioError> {
        for _ in 0..<10_000 {
            let frame = try await ws.nextJSON()
            if let result = decodeReply(frame, id) { return result }
            if let event = decodeEvent(frame) { events.append(event) }
        }
        throw ScenarioError(errno: 0, reason: "no reply to \(id)", attributes: [])
    }

    func nextEvent() async throws -> ScenarioEvent {
        if !events.isEmpty { return events.removeFirst() }
        while true {
            let frame = try await ws.nextJSON()
            if let event = decodeEvent(frame) { return event }
        }
    }

    func close() async { await ws.close() }

    static func failure(_ error: JSON?) -> ScenarioError {
        ScenarioError(errno: error?["error"]?.intValue ?? error?["code"]?.intValue ?? 0,
                      reason: error?["reason"]?.stringValue ?? error?["message"]?.stringValue ?? "",
                      attributes: (error?["extra"]?.arrayValue ?? []).compactMap { $0[0]?.stringValue })
    }

    static func jsonRPC(_ ws: WebSocketConnection) -> FrameDriver {
        FrameDriver(dialect: "JSON-RPC", ws: ws,
            encodeCall: { id, method, params in ["jsonrpc": "2.0", "id": .string(id), "method": .string(method), "params": .array(params)] },
            decodeReply: { frame, id in
                guard frame["id"] == .string(id) else { return nil }
                if let result = frame["result"] { return .success(result) }
                return .failure(failure(frame["error"]?["data"]))
            },
            decodeEvent: { frame in
                guard frame["method"] == "collection_update", let params = frame["params"] else { return nil }
                return ScenarioEvent(kind: params["msg"]?.stringValue ?? "", collection: params["collection"]?.stringValue ?? "",
                                     id: params["id"] ?? .null, fields: params["fields"] ?? .null)
            },
            subscribeFrames: { id, event in ["jsonrpc": "2.0", "id": .string(id), "method": "core.subscribe", "params": [.string(event)]] })
    }

    static func ddp(_ ws: WebSocketConnection) async throws -> FrameDriver {
        try await ws.send(#"{"msg":"connect","version":"1","support":["1"]}"#)
        guard try await ws.nextJSON()["msg"] == "connected" else { throw ScenarioError(errno: 0, reason: "no DDP handshake", attributes: []) }
        return FrameDriver(dialect: "DDP", validationErrno: 11, ws: ws,
            encodeCall: { id, method, params in ["msg": "method", "id": .string(id), "method": .string(method), "params": .array(params)] },
            decodeReply: { frame, id in
                // `ready` names its subs in a list; everything else carries the id.
                if frame["msg"] == "ready" { return frame["subs"]?.arrayValue?.contains(.string(id)) == true ? .success(true) : nil }
                guard frame["id"] == .string(id) else { return nil }
                switch frame["msg"]?.stringValue {
                case "result":
                    if let error = frame["error"] { return .failure(failure(error)) }
                    return .success(frame["result"] ?? .null)
                case "nosub": return .failure(failure(frame["error"]))
                default: return nil
                }
            },
            decodeEvent: { frame in
                guard let kind = frame["msg"]?.stringValue, ["added", "changed", "removed"].contains(kind) else { return nil }
                return ScenarioEvent(kind: kind, collection: frame["collection"]?.stringValue ?? "", id: frame["id"] ?? .null, fields: frame["fields"] ?? .null)
            },
            subscribeFrames: { id, event in ["msg": "sub", "id": .string(id), "name": .string(event), "params": []] })
    }

    static func envelope(_ ws: WebSocketConnection) -> FrameDriver {
        FrameDriver(dialect: "envelope", ws: ws,
            encodeCall: { id, method, params in
                ["namespace": "rpc", "name": "call", "id": .string(id), "args": ["method": .string(method), "args": .array(params)]]
            },
            decodeReply: { frame, id in
                guard frame["id"] == .string(id) else { return nil }
                if frame["name"] == "error" { return .failure(failure(frame["args"])) }
                return .success(frame["args"] ?? .null)
            },
            decodeEvent: { frame in
                guard frame["namespace"] == "events", frame["name"] != "response", let args = frame["args"] else { return nil }
                return ScenarioEvent(kind: args["msg"]?.stringValue ?? "", collection: args["collection"]?.stringValue ?? "",
                                     id: args["id"] ?? .null, fields: args["fields"] ?? .null)
            },
            subscribeFrames: { id, event in ["namespace": "events", "name": "subscribe", "id": .string(id), "args": [.string(event)]] })
    }
}

/// REST under `/api/v2.0`: Basic credentials on every request; no events, so progress is polled.
final class RESTDriver: ScenarioDriver, @unchecked Sendable {
    // Used by the one scenario task that owns it.
    let dialect = "REST"
    let validationErrno: Int64 = 22
    let base: String
    private var credentials: [String: String] = [:]

    init(base: String) {
        self.base = base
    }

    func login(_ username: String, _ password: String) async throws {
        credentials = HTTPExchange.basic(username, password)
        let answer = try await HTTPExchange.send("GET", base + "/api/v2.0/auth/me", headers: credentials)
        guard answer.status == 200 else { throw ScenarioError(errno: 207, reason: "login refused: \(answer.text)", attributes: []) }
    }

    /// The route of each method, read from the daemon's own OpenAPI document (operationId is the method name).
    private var operations: [String: (method: String, path: String, query: Bool)] = [:]

    func route(_ method: String) async throws -> (method: String, path: String, query: Bool) {
        if operations.isEmpty {
            let document = try await HTTPExchange.send("GET", base + "/api/v2.0/openapi.json").json ?? .null
            for (path, item) in document["paths"]?.objectValue ?? [:] {
                for (httpMethod, operation) in item.objectValue ?? [:] {
                    guard let name = operation["operationId"]?.stringValue else { continue }
                    let query = operation["parameters"]?.arrayValue?.contains { $0["in"] == "query" } == true
                    operations[name] = (httpMethod.uppercased(), path, query)
                }
            }
        }
        guard let route = operations[method] else { throw ScenarioError(errno: 201, reason: "no REST route for \(method)", attributes: []) }
        return route
    }

    func call(_ method: String, _ params: [JSON]) async throws -> JSON {
        let route = try await route(method)
        var params = params
        var path = route.path
        if path.contains("{id}"), !params.isEmpty {
            let id = params.removeFirst()
            path = path.replacingOccurrences(of: "{id}", with: id.stringValue ?? id.encodedString())
        }
        let url = base + "/api/v2.0" + path
        let answer: HTTPAnswer
        if route.query {
            // Filters travel in the query string, as middlewared's REST clients send them.
            let filters = (params.first?.arrayValue ?? []).compactMap { filter -> String? in
                guard let field = filter[0]?.stringValue, filter[1] == "=", let value = filter[2] else { return nil }
                return "\(field)=\(value.stringValue ?? value.encodedString())"
            }
            answer = try await HTTPExchange.send(route.method, url + "?" + filters.joined(separator: "&"), headers: credentials)
        } else if params.isEmpty {
            answer = try await HTTPExchange.send(route.method, url, headers: credentials)
        } else {
            // One argument is the body itself; several are a list (RESTRoutes' rule).
            let body = params.count == 1 ? params[0] : .array(params)
            answer = try await HTTPExchange.send(route.method, url, headers: credentials, body: body.encodedString())
        }
        guard let json = answer.json else { throw ScenarioError(errno: 0, reason: "not JSON: \(answer.text)", attributes: []) }
        if answer.status == 200 { return json }
        throw FrameDriver.failure(["error": json["errno"] ?? .null, "reason": json["reason"] ?? .null, "extra": json["extra"] ?? .null])
    }

    func subscribe(_ event: String) async throws -> Bool { false }

    func nextEvent() async throws -> ScenarioEvent {
        throw ScenarioError(errno: 95, reason: "REST has no events", attributes: [])
    }

    func close() async {}
}
