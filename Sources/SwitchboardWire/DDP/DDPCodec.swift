import SwitchboardCore

/// One decoded client frame of the DDP-style dialect (`/websocket`, middlewared 24.x and Meteor clients).
public enum DDPInbound: Sendable, Equatable {
    case connect(version: String, support: [String])
    /// `id` is kept in its JSON type: middlewared clients send strings, some scripts numbers.
    case method(id: JSON, method: String, params: [JSON])
    case ping(id: JSON?)
    case pong(id: JSON?)
    case sub(id: JSON, name: String, params: [JSON])
    case unsub(id: JSON)
    /// Not a message this dialect knows; `reason` says why.
    case invalid(id: JSON?, reason: String)
}

/// The frames of the DDP-style dialect, as spec/protocols.md gives them.
public enum DDPCodec {
    public static let version = "1"

    public static func decode(_ bytes: UnsafeRawBufferPointer, limits: JSONParseLimits = .default) -> DDPInbound {
        do {
            return decode(try JSON.parse(buffer: bytes, limits: limits))
        } catch {
            return .invalid(id: nil, reason: "Invalid JSON: \(error)")
        }
    }

    public static func decode(_ message: JSON) -> DDPInbound {
        guard case .object(let object) = message else { return .invalid(id: nil, reason: "A message must be a JSON object") }
        let id = object["id"]
        guard case .string(let kind) = object["msg"] else { return .invalid(id: id, reason: "msg must be a string") }
        switch kind {
        case "connect":
            let version = object["version"]?.stringValue ?? ""
            let support = object["support"]?.arrayValue?.compactMap(\.stringValue) ?? []
            return .connect(version: version, support: support)
        case "method":
            guard let id, isIdentifier(id) else { return .invalid(id: id, reason: "id must be a string or an integer") }
            guard case .string(let method) = object["method"], !method.isEmpty else {
                return .invalid(id: id, reason: "method must be a non-empty string")
            }
            switch object["params"] {
            case nil, .null?: return .method(id: id, method: method, params: [])
            case .array(let params)?: return .method(id: id, method: method, params: params)
            default: return .invalid(id: id, reason: "params must be an array")
            }
        case "ping": return .ping(id: id)
        case "pong": return .pong(id: id)
        case "sub":
            guard let id, isIdentifier(id) else { return .invalid(id: id, reason: "id must be a string or an integer") }
            guard case .string(let name) = object["name"], !name.isEmpty else { return .invalid(id: id, reason: "name must be a non-empty string") }
            switch object["params"] {
            case nil, .null?: return .sub(id: id, name: name, params: [])
            case .array(let params)?: return .sub(id: id, name: name, params: params)
            default: return .invalid(id: id, reason: "params must be an array")
            }
        case "unsub":
            guard let id else { return .invalid(id: nil, reason: "unsub needs the id of the sub") }
            return .unsub(id: id)
        default:
            return .invalid(id: id, reason: "Unknown message \(kind)")
        }
    }

    public static func encodeConnected(session: String) -> [UInt8] {
        encode(["msg": "connected", "session": .string(session)])
    }

    public static func encodeFailed() -> [UInt8] {
        encode(["msg": "failed", "version": .string(version)])
    }

    public static func encodeResult(id: JSON, result: JSON) -> [UInt8] {
        encode(["id": id, "msg": "result", "result": result])
    }

    public static func encodeError(id: JSON, error: CallError) -> [UInt8] {
        encode(["id": id, "msg": "result", "error": errorObject(error)])
    }

    /// middlewared's DDP error object: validation errors are errno 11 EAGAIN with `type: "VALIDATION"`.
    public static func errorObject(_ error: CallError) -> JSON {
        if error.kind == .invalidParams {
            return ["error": .int(Int64(Errno.EAGAIN)), "errname": .string(Errno.name(Errno.EAGAIN)), "type": "VALIDATION",
                    "reason": .string(error.reason), "trace": .null, "extra": error.extra]
        }
        return ["error": .int(Int64(error.errno)), "errname": .string(error.errname), "type": .null,
                "reason": .string(error.reason), "trace": error.trace, "extra": error.extra]
    }

    public static func encodePong(id: JSON?) -> [UInt8] {
        guard let id else { return encode(["msg": "pong"]) }
        return encode(["msg": "pong", "id": id])
    }

    public static func encodePing(id: String) -> [UInt8] {
        encode(["msg": "ping", "id": .string(id)])
    }

    public static func encodeReady(subs: [JSON]) -> [UInt8] {
        encode(["msg": "ready", "subs": .array(subs)])
    }

    /// Meteor clients match `id`, middlewared clients `collection`: both are sent.
    public static func encodeNosub(id: JSON, collection: String, error: CallError?) -> [UInt8] {
        encode(["msg": "nosub", "id": id, "collection": .string(collection), "error": error.map(errorObject) ?? .null])
    }

    public static func encodeEvent(kind: EventKind, collection: String, id: JSON, fields: JSON) -> [UInt8] {
        var message: JSONObject = ["msg": .string(kind.rawValue), "collection": .string(collection), "id": id]
        if !fields.isNull { message["fields"] = fields }
        return encode(.object(message))
    }

    /// Call and subscription ids: strings (middlewared, Meteor) or integers.
    static func isIdentifier(_ id: JSON) -> Bool {
        switch id {
        case .string, .int: return true
        default: return false
        }
    }

    /// Meteor's answer to a message it cannot take: `{"msg":"error","reason":..}`.
    public static func encodeMalformed(reason: String) -> [UInt8] {
        encode(["msg": "error", "reason": .string(reason)])
    }

    static func encode(_ value: JSON) -> [UInt8] {
        var writer = JSONWriter(capacity: 128)
        writer.write(value)
        return writer.bytes
    }
}
