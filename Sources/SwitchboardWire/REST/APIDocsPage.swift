import SwitchboardCore

/// The human API reference at `/api/docs`: one HTML page generated from the registry and the event types,
/// listing every service, method (arguments, result, roles, an example call in each dialect) and event.
public enum APIDocsPage {
    public static func render(registry: MethodRegistry, events: [EventTypeDescriptor], version: String) -> String {
        let methods = registry.methods.filter { !$0.flags.contains(.private) }
        let routes = Dictionary(RESTRoutes.routes(registry).map { ($0.method.name, $0) }, uniquingKeysWith: { a, _ in a })
        var html = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>Switchboard API \(escape(version))</title>
        <style>
        body{font-family:system-ui,sans-serif;max-width:70em;margin:auto;padding:1em;line-height:1.4}
        pre{background:#f4f4f4;padding:.6em;overflow-x:auto;font-size:.85em}
        code{background:#f4f4f4;padding:0 .2em}
        .flags{color:#555;font-size:.9em}
        h3{border-top:1px solid #ddd;padding-top:.8em}
        </style></head><body>
        <h1>Switchboard API</h1>
        <p>Version \(escape(version)). Every method below is served over WebSocket as JSON-RPC 2.0
        (<code>/api/current</code>), DDP (<code>/websocket</code>) and the envelope dialect (<code>/socket</code>),
        and over REST under <code>/api/v2.0</code> (<a href="/api/v2.0/openapi.json">OpenAPI document</a>); the JSON-RPC dialect is described by its
        <a href="/api/openrpc.json">OpenRPC document</a>.</p>
        <h2 id="services">Services</h2><ul>

        """
        for service in registry.services {
            html += "<li><a href=\"#service-\(escape(service.name))\"><code>\(escape(service.name))</code></a> (\(service.kind.rawValue))"
            if !service.description.isEmpty { html += ": " + escape(service.description) }
            html += "</li>\n"
        }
        html += "</ul>\n<h2 id=\"events\">Events</h2><ul>\n"
        for event in events.sorted(by: { $0.name < $1.name }) {
            // Whether a subscriber on one node of a cluster hears what the others emit.
            let scope = event.scope == .cluster ? " · cluster-wide" : ""
            html += "<li><code>\(escape(event.name))</code>: \(escape(event.description)) <span class=\"flags\">Roles: \(escape(roles(event.roles)))\(scope)</span></li>\n"
        }
        html += "</ul>\n"
        for service in registry.services {
            html += "<h2 id=\"service-\(escape(service.name))\">\(escape(service.name))</h2>\n"
            for method in methods where method.namespace == service.name {
                html += section(method, route: routes[method.name])
            }
        }
        return html + "</body></html>\n"
    }

    static func section(_ method: MethodDescriptor, route: RESTRoute?) -> String {
        var flags: [String] = []
        if method.flags.contains(.job) { flags.append("job") }
        if method.flags.contains(.readonly) { flags.append("read-only") }
        if method.flags.contains(.noAuthRequired) { flags.append("no authentication") }
        var html = "<h3 id=\"method-\(escape(method.name))\"><code>\(escape(method.name))</code></h3>\n"
        html += "<p>\(escape(method.description))</p>\n"
        html += "<p class=\"flags\">Roles: \(escape(method.flags.contains(.noAuthRequired) ? "none needed" : roles(method.roles)))"
        if !flags.isEmpty { html += " · " + flags.joined(separator: ", ") }
        html += "</p>\n"
        if method.params.isEmpty {
            html += "<p>No arguments.</p>\n"
        } else {
            html += "<table><tr><th>#</th><th>Argument</th><th>Schema</th></tr>\n"
            for (index, parameter) in method.params.enumerated() {
                var name = escape(parameter.name)
                if let value = parameter.defaultValue { name += " <span class=\"flags\">(optional, default <code>\(escape(value.encodedString()))</code>)</span>" }
                html += "<tr><td>\(index)</td><td>\(name)</td><td><pre>\(escape(pretty(parameter.schema)))</pre></td></tr>\n"
            }
            html += "</table>\n"
        }
        html += "<p>Result:</p><pre>\(escape(pretty(method.returns)))</pre>\n"
        let arguments = method.params.filter(\.required).map { SchemaExample.value($0.schema) }
        let jsonRPC: JSON = ["jsonrpc": "2.0", "id": 1, "method": .string(method.name), "params": .array(arguments)]
        html += "<p>Example, JSON-RPC:</p><pre>\(escape(jsonRPC.encodedString()))</pre>\n"
        let envelope: JSON = ["namespace": "rpc", "name": "call", "id": "1", "args": ["method": .string(method.name), "args": .array(arguments)]]
        html += "<p>Example, envelope:</p><pre>\(escape(envelope.encodedString()))</pre>\n"
        if let route {
            var line = "\(route.httpMethod) /api/v2.0\(route.path)"
            if route.httpMethod == "POST" || route.httpMethod == "PUT" {
                let body = route.arguments == .item ? Array(arguments.dropFirst()) : arguments
                if body.count == 1 { line += "\n\n" + body[0].encodedString() } else if !body.isEmpty { line += "\n\n" + JSON.array(body).encodedString() }
            }
            html += "<p>Example, REST:</p><pre>\(escape(line))</pre>\n"
        }
        return html
    }

    static func roles(_ roles: [String]) -> String {
        Role.effective(roles).joined(separator: ", ")
    }

    /// Compact JSON with a line per top-level member, readable without a script on the page.
    static func pretty(_ value: JSON) -> String {
        guard case .object(let object) = value, !object.isEmpty else { return value.encodedString() }
        return "{\n" + object.map { "  \(JSON.string($0.key).encodedString()): \($0.value.encodedString())" }.joined(separator: ",\n") + "\n}"
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}

/// A plausible value for a JSON Schema, for documentation examples: its `examples`, `default`, `const` or first
/// `enum` value, else the simplest value of its type (objects with their required properties filled in).
public enum SchemaExample {
    public static func value(_ schema: JSON, depth: Int = 0) -> JSON {
        guard case .object(let object) = schema, depth < 8 else { return .null }
        if let example = object["examples"]?.arrayValue?.first { return example }
        if let value = object["default"] { return value }
        if let value = object["const"] { return value }
        if let value = object["enum"]?.arrayValue?.first { return value }
        if let first = (object["anyOf"] ?? object["oneOf"])?.arrayValue?.first { return value(first, depth: depth + 1) }
        let type = object["type"]?.stringValue ?? object["type"]?.arrayValue?.first?.stringValue
        switch type {
        case "string": return .string(object["format"]?.stringValue == "date-time" ? "2026-01-01T00:00:00Z" : "string")
        case "integer": return .int(object["minimum"]?.intValue ?? 0)
        case "number": return .int(0)
        case "boolean": return false
        case "array":
            let minItems = object["minItems"]?.intValue ?? 0
            guard minItems > 0, let items = object["items"] else { return [] }
            return .array(Array(repeating: value(items, depth: depth + 1), count: Int(min(minItems, 3))))
        case "object":
            var result: JSONObject = [:]
            let properties = object["properties"]?.objectValue ?? [:]
            for name in object["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
                result[name] = properties[name].map { value($0, depth: depth + 1) } ?? .null
            }
            return .object(result)
        default:
            return .null
        }
    }
}
