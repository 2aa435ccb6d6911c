import SwitchboardCore

/// One decoded client message of the envelope dialect (`/socket`, `/`; FreeNAS 10 dispatcher and sysadm).
public enum EnvelopeInbound: Sendable, Equatable {
    /// `id` is echoed in its JSON type; sysadm clients send strings, scripts sometimes numbers.
    case request(id: JSON, namespace: String, name: String, args: JSON)
    /// Not a message this dialect takes; `id` is the request's when it could be read.
    case invalid(id: JSON, reason: String)
}

/// The frames of the envelope dialect: every message both ways is `{"namespace","name","id","args"}`.
public enum EnvelopeCodec {
    public static func decode(_ bytes: UnsafeRawBufferPointer, limits: JSONParseLimits = .default) -> EnvelopeInbound {
        do {
            return decode(try JSON.parse(buffer: bytes, limits: limits))
        } catch {
            return .invalid(id: .null, reason: "Invalid JSON: \(error)")
        }
    }

    public static func decode(_ message: JSON) -> EnvelopeInbound {
        guard case .object(let object) = message else { return .invalid(id: .null, reason: "A message must be a JSON object") }
        let id = object["id"] ?? .null
        switch id {
        case .string, .int, .null: break
        default: return .invalid(id: .null, reason: "id must be a string or an integer")
        }
        guard case .string(let namespace) = object["namespace"], !namespace.isEmpty else {
            return .invalid(id: id, reason: "namespace must be a non-empty string")
        }
        guard case .string(let name) = object["name"], !name.isEmpty else {
            return .invalid(id: id, reason: "name must be a non-empty string")
        }
        return .request(id: id, namespace: namespace, name: name, args: object["args"] ?? .null)
    }

    /// `{"namespace":<namespace>,"name":"response","id":..,"args":..}`; `namespace` is `rpc` except for `events/*`.
    public static func response(id: JSON, namespace: String = "rpc", args: JSON) -> JSON {
        ["namespace": .string(namespace), "name": "response", "id": id, "args": args]
    }

    /// `{"namespace":"rpc","name":"error","id":..,"args":{"code":errno,"message":..,"extra":..}}`; validation
    /// errors carry their `[attribute, message, errno]` triples in `extra`.
    public static func error(id: JSON, error: CallError) -> JSON {
        ["namespace": "rpc", "name": "error", "id": id, "args": errorArgs(error)]
    }

    /// The error's `args`: `{"code":errno,"message":..,"extra":..,"stacktrace":..}` (extra and FreeNAS 10's
    /// stacktrace only when there is one: an external plugin's exception).
    public static func errorArgs(_ error: CallError) -> JSON {
        var args: JSONObject = ["code": .int(Int64(error.errno)), "message": .string(error.reason)]
        if !error.extra.isNull { args["extra"] = error.extra }
        if !error.trace.isNull { args["stacktrace"] = error.trace }
        return .object(args)
    }

    /// An event as delivered to subscribers: `{"namespace":"events","name":<event>,"id":"","args":{..}}`, with
    /// args `{"msg":"added|changed|removed","collection","id","fields"}` as the other dialects carry them.
    public static func event(_ event: Event) -> JSON {
        ["namespace": "events", "name": .string(event.name), "id": "", "args": eventArgs(event)]
    }

    /// `{"msg":"added|changed|removed","collection","id","fields"}`, in both framings.
    static func eventArgs(_ event: Event) -> JSON {
        var args: JSONObject = ["msg": .string(event.kind.rawValue), "collection": .string(event.name), "id": event.id]
        if !event.fields.isNull { args["fields"] = event.fields }
        return .object(args)
    }

    /// An event as FreeNAS 10 delivers it: `{"namespace":"events","name":"event","id":null,"args":{"name":<event>,
    /// "args":{..}}}`, the inner args as `event(_:)` carries them.
    public static func freenasEvent(_ event: Event) -> JSON {
        ["namespace": "events", "name": "event", "id": .null, "args": ["name": .string(event.name), "args": eventArgs(event)]]
    }

    public static func encode(_ message: JSON) -> [UInt8] {
        var writer = JSONWriter(capacity: 128)
        writer.write(message)
        return writer.bytes
    }
}
