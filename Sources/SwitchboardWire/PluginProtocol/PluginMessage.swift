import SwitchboardCore

/// One message of the external plugin protocol (docs/plugin-protocol.md): JSON-RPC 2.0, one object per line.
/// Both sides send requests, notifications and responses; this is the decoded form of any of them.
public enum PluginMessage: Sendable, Equatable {
    case request(id: JSON, method: String, params: JSON)
    case notification(method: String, params: JSON)
    case result(id: JSON, JSON)
    case error(id: JSON, CallError)

    public enum DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
        case invalidJSON(String)
        case notAMessage(String)

        public var description: String {
            switch self {
            case .invalidJSON(let reason): return "invalid JSON: \(reason)"
            case .notAMessage(let reason): return "not a JSON-RPC 2.0 message: \(reason)"
            }
        }
    }

    /// Decodes one line.
    public static func decode(_ line: [UInt8]) throws(DecodeError) -> PluginMessage {
        let result = line.withUnsafeBytes { buffer in Result { () throws(DecodeError) in try decode(buffer: buffer) } }
        return try result.get()
    }

    /// Decodes one line in place (as `LineFramer` hands it over).
    public static func decode(buffer line: UnsafeRawBufferPointer) throws(DecodeError) -> PluginMessage {
        let value: JSON
        do {
            value = try JSON.parse(buffer: line, limits: JSONParseLimits(maxDepth: 64, maxMembers: 1_000_000))
        } catch {
            throw .invalidJSON("\(error)")
        }
        return try decode(value)
    }

    public static func decode(_ value: JSON) throws(DecodeError) -> PluginMessage {
        guard case .object(let object) = value else { throw .notAMessage("a message is a JSON object") }
        guard object["jsonrpc"] == "2.0" else { throw .notAMessage("\"jsonrpc\" must be \"2.0\"") }
        let id = object["id"]
        if let id {
            switch id {
            case .string, .int: break
            case .double(let number) where number.rounded() == number: break
            default: throw .notAMessage("\"id\" must be a string or an integer")
            }
        }
        if let method = object["method"] {
            guard let name = method.stringValue, !name.isEmpty else { throw .notAMessage("\"method\" must be a non-empty string") }
            let params = object["params"] ?? .null
            switch params {
            case .object, .array, .null: break
            default: throw .notAMessage("\"params\" must be an object or an array")
            }
            if let id { return .request(id: id, method: name, params: params) }
            return .notification(method: name, params: params)
        }
        guard let id else { throw .notAMessage("a response needs an \"id\"") }
        if let result = object["result"] { return .result(id: id, result) }
        guard let error = object["error"]?.objectValue else {
            throw .notAMessage("a message needs \"method\", \"result\" or \"error\"")
        }
        return .error(id: id, Self.callError(error))
    }

    /// The wire error object `{"code", "message", "data": {"errno", "extra", "exc_info"}}` as a `CallError`;
    /// an errno the plugin did not give reads as EFAULT.
    static func callError(_ error: JSONObject) -> CallError {
        let data = error["data"]?.objectValue ?? [:]
        let errno = data["errno"]?.intValue.flatMap { Int32(exactly: $0) } ?? Errno.EFAULT
        let reason = error["message"]?.stringValue ?? "the plugin gave no reason"
        var callError = CallError(errno, reason, extra: data["extra"] ?? .null)
        if let excInfo = data["exc_info"], !excInfo.isNull { callError.trace = ["class": excInfo["type"] ?? .null,
                                                                                 "formatted": excInfo["traceback"] ?? .null,
                                                                                 "exc_info": excInfo] }
        return callError
    }

    /// The line for this message, newline included.
    /// A request's line with its params written by `params` straight into the bytes: the daemon's requests
    /// (a forwarded call on every call of a plugin's method) build no JSON tree for their envelope and caller.
    public static func requestLine(id: Int64, method: String, params: (inout JSONWriter) -> Void) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.writeRaw(#"{"jsonrpc":"2.0","id":"#)
        writer.writeInteger(id)
        writer.writeRaw(#","method":"#)
        writer.writeString(method)
        writer.writeRaw(#","params":"#)
        params(&writer)
        writer.writeRaw("}\n")
        return writer.bytes
    }

    public func encoded() -> [UInt8] {
        var object: JSONObject = ["jsonrpc": "2.0"]
        switch self {
        case .request(.int(let id), let method, let params):
            return Self.requestLine(id: id, method: method) { $0.write(params) }
        case .request(let id, let method, let params):
            object["id"] = id
            object["method"] = .string(method)
            object["params"] = params
        case .notification(let method, let params):
            object["method"] = .string(method)
            object["params"] = params
        case .result(let id, let result):
            object["id"] = id
            object["result"] = result
        case .error(let id, let error):
            object["id"] = id
            var data: JSONObject = ["errno": .int(Int64(error.errno)), "errname": .string(error.errname)]
            if !error.extra.isNull { data["extra"] = error.extra }
            // Where the error came from travels on: another plugin's exception, as it gave it.
            if !error.trace.isNull {
                data["exc_info"] = error.trace["exc_info"] ?? ["type": error.trace["class"] ?? .null, "traceback": error.trace["formatted"] ?? .null]
            }
            object["error"] = ["code": .int(Int64(error.errno)), "message": .string(error.reason), "data": .object(data)]
        }
        var bytes = JSON.object(object).encodedBytes()
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }
}
