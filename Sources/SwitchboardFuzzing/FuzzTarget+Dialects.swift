import SwitchboardCore
import SwitchboardWire

/// The three WebSocket dialects' decoders, judged by what their answer says about the frame (read again by the
/// generic JSON parser): a request carries exactly the frame's id, method and params; a refusal happens only
/// to a frame the dialect's rules refuse, echoes the id it could read, uses a code the dialect defines, and
/// its reply frame says the same as the refusal.
extension FuzzTarget {
    /// The frame as the generic parser reads it: whether it is JSON, and its members when it is an object.
    static func frameObject(_ bytes: UnsafeRawBufferPointer) -> (parsed: JSON?, object: JSONObject?) {
        guard let value = try? JSON.parse(buffer: bytes) else { return (nil, nil) }
        return (value, value.objectValue)
    }

    static func nonEmptyString(_ value: JSON?) -> Bool {
        if case .string(let text)? = value { return !text.isEmpty }
        return false
    }

    static func jsonRPC(_ bytes: UnsafeRawBufferPointer) -> String? {
        checkJSONRPC(bytes, JSONRPCCodec.decode(bytes))
    }

    static func checkJSONRPC(_ bytes: UnsafeRawBufferPointer, _ decoded: JSONRPCInbound) -> String? {
        let (parsed, object) = frameObject(bytes)
        func request(_ id: JSON?, _ method: String, _ params: [JSON]) -> String? {
            guard let object else { return "a request from a frame that is not an object" }
            if object["jsonrpc"] != "2.0" { return "a request from a frame without \"jsonrpc\":\"2.0\"" }
            if object["method"] != .string(method) || method.isEmpty { return "method \(method) is not the frame's" }
            if object["id"] != id { return "id \(String(describing: id)) is not the frame's" }
            if (object["params"] ?? []) != .array(params) { return "params are not the frame's" }
            return nil
        }
        switch decoded {
        case .call(let id, let method, let params): return request(id, method, params)
        case .notification(let method, let params): return request(nil, method, params)
        case .invalid(let id, let code, let message, let reason):
            if reason.isEmpty { return "a refusal without a reason" }
            let messages = [JSONRPCCodec.parseError: "Parse error", JSONRPCCodec.invalidRequest: "Invalid Request",
                            JSONRPCCodec.invalidParams: "Invalid params"]
            guard messages[code] == message else { return "code \(code) with message \(message)" }
            var echoed = JSON.null
            if let object {
                let idType: Bool
                switch object["id"] {
                case nil, .int?, .string?, .null?: idType = true
                default: idType = false
                }
                if idType, object["jsonrpc"] == "2.0", nonEmptyString(object["method"]),
                   object["params"] == nil || object["params"]?.arrayValue != nil {
                    return "refused a valid request: \(reason)"
                }
                if idType { echoed = object["id"] ?? .null }
                if code == JSONRPCCodec.parseError { return "a parse error for a JSON object" }
            } else if parsed == nil || parsed?.arrayValue != nil {
                if code != JSONRPCCodec.parseError { return "not JSON or a batch, but code \(code)" }
            } else if code != JSONRPCCodec.invalidRequest {
                return "a frame that is not an object, but code \(code)"
            }
            if id != echoed { return "the refusal's id \(id) is not the frame's \(echoed)" }
            let reply = try? JSON.parse(bytes: JSONRPCCodec.encodeInvalid(id: id, code: code, message: message, reason: reason))
            guard let reply, reply["jsonrpc"] == "2.0", reply["id"] == id, reply["error"]?["code"] == .int(Int64(code)),
                  reply["error"]?["message"] == .string(message), reply["error"]?["data"]?["reason"] == .string(reason),
                  reply["error"]?["data"]?["error"] == .int(Int64(Errno.EINVAL))
            else { return "the refusal's reply does not say what the refusal does" }
            return nil
        }
    }

    static func ddp(_ bytes: UnsafeRawBufferPointer) -> String? {
        checkDDP(bytes, DDPCodec.decode(bytes))
    }

    static func checkDDP(_ bytes: UnsafeRawBufferPointer, _ decoded: DDPInbound) -> String? {
        let (_, object) = frameObject(bytes)
        func message(_ kind: String, id: JSON?) -> String? {
            guard let object else { return "a \(kind) from a frame that is not an object" }
            if object["msg"] != .string(kind) { return "a \(kind) from a frame whose msg is \(String(describing: object["msg"]))" }
            if object["id"] != id { return "id \(String(describing: id)) is not the frame's" }
            return nil
        }
        func identified(_ id: JSON) -> Bool {
            switch id {
            case .string, .int: return true
            default: return false
            }
        }
        func params(_ params: [JSON]) -> String? {
            let given = object?["params"] ?? .null
            return (given.isNull ? [] : given) == .array(params) ? nil : "params are not the frame's"
        }
        switch decoded {
        case .connect(let version, let support):
            if let problem = message("connect", id: object?["id"]) { return problem }
            if version != object?["version"]?.stringValue ?? "" { return "version \(version) is not the frame's" }
            if support != object?["support"]?.arrayValue?.compactMap(\.stringValue) ?? [] { return "support is not the frame's" }
        case .method(let id, let method, let given):
            if let problem = message("method", id: id) ?? params(given) { return problem }
            if !identified(id) || object?["method"] != .string(method) || method.isEmpty { return "method \(method) or its id is not the frame's" }
            let reply = try? JSON.parse(bytes: DDPCodec.encodeResult(id: id, result: .null))
            if reply != ["id": id, "msg": "result", "result": nil] { return "the result for id \(id) does not carry it" }
        case .sub(let id, let name, let given):
            if let problem = message("sub", id: id) ?? params(given) { return problem }
            if !identified(id) || object?["name"] != .string(name) || name.isEmpty { return "sub \(name) or its id is not the frame's" }
        case .ping(let id): return message("ping", id: id)
        case .pong(let id): return message("pong", id: id)
        case .unsub(let id): return message("unsub", id: id)
        case .invalid(let id, let reason):
            if reason.isEmpty { return "a refusal without a reason" }
            if id != object?["id"] { return "the refusal's id \(String(describing: id)) is not the frame's" }
            if let kind = object?["msg"]?.stringValue, ["connect", "ping", "pong"].contains(kind) {
                return "refused a \(kind), which is always taken: \(reason)"
            }
            let reply = try? JSON.parse(bytes: DDPCodec.encodeMalformed(reason: reason))
            if reply != ["msg": "error", "reason": .string(reason)] { return "the refusal's reply does not say its reason" }
        }
        return nil
    }

    static func envelope(_ bytes: UnsafeRawBufferPointer) -> String? {
        checkEnvelope(bytes, EnvelopeCodec.decode(bytes))
    }

    static func checkEnvelope(_ bytes: UnsafeRawBufferPointer, _ decoded: EnvelopeInbound) -> String? {
        let (_, object) = frameObject(bytes)
        var idType = false
        switch object?["id"] {
        case nil, .int?, .string?, .null?: idType = object != nil
        default: break
        }
        switch decoded {
        case .request(let id, let namespace, let name, let args):
            guard let object else { return "a request from a frame that is not an object" }
            if id != object["id"] ?? .null || !idType { return "id \(id) is not the frame's" }
            if object["namespace"] != .string(namespace) || namespace.isEmpty { return "namespace \(namespace) is not the frame's" }
            if object["name"] != .string(name) || name.isEmpty { return "name \(name) is not the frame's" }
            if args != object["args"] ?? .null { return "args are not the frame's" }
        case .invalid(let id, let reason):
            if reason.isEmpty { return "a refusal without a reason" }
            if idType && nonEmptyString(object?["namespace"]) && nonEmptyString(object?["name"]) {
                return "refused a valid message: \(reason)"
            }
            let echoed = idType ? object?["id"] ?? .null : .null
            if id != echoed { return "the refusal's id \(id) is not the frame's \(echoed)" }
            let reply = try? JSON.parse(bytes: EnvelopeCodec.encode(EnvelopeCodec.error(id: id, error: CallError(Errno.EINVAL, reason))))
            if reply != ["namespace": "rpc", "name": "error", "id": id, "args": ["code": .int(Int64(Errno.EINVAL)), "message": .string(reason)]] {
                return "the refusal's reply does not say what the refusal does"
            }
        }
        return nil
    }
}
