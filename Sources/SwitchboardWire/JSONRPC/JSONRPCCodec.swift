import SwitchboardCore

/// One decoded client frame of the JSON-RPC 2.0 dialect.
public enum JSONRPCInbound: Sendable, Equatable {
    /// A request: reply with the same `id`, in its original JSON type.
    case call(id: JSON, method: String, params: [JSON])
    /// No `id`: run it, reply nothing.
    case notification(method: String, params: [JSON])
    /// Not acceptable; send this error reply.
    case invalid(id: JSON, code: Int, message: String, reason: String)
}

/// JSON-RPC 2.0 as TrueNAS middlewared 25.04+ speaks it over `/api/current`: codes, messages and the
/// `data` object of errors.
public enum JSONRPCCodec {
    public static let parseError = -32700
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    public static let invalidParams = -32602
    public static let internalError = -32603
    public static let tooManyConcurrentCalls = -32000
    public static let callError = -32001

    public static func decode(_ bytes: UnsafeRawBufferPointer, limits: JSONParseLimits = .default) -> JSONRPCInbound {
        let message: JSON
        do {
            message = try JSON.parse(buffer: bytes, limits: limits)
        } catch {
            return .invalid(id: .null, code: parseError, message: "Parse error", reason: "Invalid JSON: \(error)")
        }
        return decode(message)
    }

    public static func decode(_ message: JSON) -> JSONRPCInbound {
        guard case .object(let object) = message else {
            if case .array = message {
                return .invalid(id: .null, code: parseError, message: "Parse error", reason: "Batch requests are not supported")
            }
            return .invalid(id: .null, code: invalidRequest, message: "Invalid Request", reason: "A request must be a JSON object")
        }
        let id = object["id"]
        if let id {
            switch id {
            case .int, .string, .null: break
            default:
                return .invalid(id: .null, code: invalidRequest, message: "Invalid Request", reason: "id must be an integer or a string")
            }
        }
        guard case .string("2.0") = object["jsonrpc"] else {
            return .invalid(id: id ?? .null, code: invalidRequest, message: "Invalid Request", reason: "jsonrpc must be \"2.0\"")
        }
        guard case .string(let method) = object["method"], !method.isEmpty else {
            return .invalid(id: id ?? .null, code: invalidRequest, message: "Invalid Request", reason: "method must be a non-empty string")
        }
        let params: [JSON]
        switch object["params"] {
        case nil: params = []
        case .array(let list)?: params = list
        default:
            return .invalid(id: id ?? .null, code: invalidParams, message: "Invalid params", reason: "params must be an array")
        }
        guard let id else { return .notification(method: method, params: params) }
        return .call(id: id, method: method, params: params)
    }

    public static func encodeResult(id: JSON, result: JSON) -> [UInt8] {
        var writer = JSONWriter(capacity: 64)
        writer.write(["jsonrpc": "2.0", "id": id, "result": result])
        return writer.bytes
    }

    /// The error code and message for a call error, as middlewared chooses them.
    public static func code(for error: CallError) -> (Int, String) {
        switch error.kind {
        case .methodNotFound: return (methodNotFound, "Method does not exist")
        case .invalidParams: return (invalidParams, "Invalid params")
        case .tooManyConcurrentCalls: return (tooManyConcurrentCalls, "Too many concurrent calls")
        case .internal: return (internalError, "Internal error")
        case .notAuthenticated, .notAuthorized, .call: return (callError, "Method call error")
        }
    }

    public static func encodeError(id: JSON, error: CallError, pyExceptions: Bool = false) -> [UInt8] {
        let (code, message) = code(for: error)
        var data = error.errorObject.objectValue ?? [:]
        if pyExceptions { data["py_exception"] = .string(pythonException(error)) }
        var writer = JSONWriter(capacity: 128)
        writer.write(["jsonrpc": "2.0", "id": id, "error": ["code": .int(Int64(code)), "message": .string(message), "data": .object(data)]])
        return writer.bytes
    }

    public static func encodeInvalid(id: JSON, code: Int, message: String, reason: String) -> [UInt8] {
        // Every frame-level refusal is a bad argument from the client's side: EINVAL.
        let errno = Errno.EINVAL
        var writer = JSONWriter(capacity: 128)
        writer.write([
            "jsonrpc": "2.0", "id": id,
            "error": ["code": .int(Int64(code)), "message": .string(message),
                      "data": ["error": .int(Int64(errno)), "errname": .string(Errno.name(errno)), "reason": .string(reason),
                               "trace": nil, "extra": code == invalidParams ? [] : nil]],
        ])
        return writer.bytes
    }

    public static func encodeEvent(_ event: Event) -> [UInt8] {
        var params: JSONObject = ["msg": .string(event.kind.rawValue), "collection": .string(event.name), "id": event.id]
        if !event.fields.isNull { params["fields"] = event.fields }
        if !event.extra.isNull { params["extra"] = event.extra }
        var writer = JSONWriter(capacity: 256)
        writer.write(["jsonrpc": "2.0", "method": "collection_update", "params": .object(params)])
        return writer.bytes
    }

    public static func encodeUnsubscribed(collection: String, error: CallError?) -> [UInt8] {
        var writer = JSONWriter(capacity: 128)
        writer.write(["jsonrpc": "2.0", "method": "notify_unsubscribed",
                      "params": ["collection": .string(collection), "error": error?.errorObject ?? .null]])
        return writer.bytes
    }

    static func pythonException(_ error: CallError) -> String {
        switch error.kind {
        case .invalidParams: return "ValidationErrors"
        case .methodNotFound: return "MethodNotFound"
        default: return "CallError"
        }
    }
}
