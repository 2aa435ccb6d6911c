import SwitchboardCore

/// One thing an external plugin declares, in `plugin.hello` or `plugin.register`: a service, method, event
/// type, event source, schema definition, event handler, room, session manager or worker, with its definition
/// as sent. The definition is
/// kept so that a restarted plugin declaring the same thing again changes nothing for clients.
struct PluginDeclaration: Sendable, Equatable {
    enum Kind: String, Sendable, CaseIterable {
        // In the order they are declared: what methods refer to comes first.
        case schema = "schemas"
        case service = "services"
        case eventType = "event_types"
        case eventSource = "event_sources"
        case method = "methods"
        case handler = "event_handlers"
        case room = "rooms"
        case sessionManager = "session_managers"
        case worker = "workers"
    }

    let kind: Kind
    let name: String
    let definition: JSON

    var key: String { kind.rawValue + ":" + name }

    /// Every declaration in a hello's or register's params, in declaring order.
    /// - Throws: `CallError` EINVAL naming the attribute of a malformed entry.
    static func list(from params: JSON) throws(CallError) -> [PluginDeclaration] {
        var result: [PluginDeclaration] = []
        for kind in Kind.allCases {
            guard let value = params[kind.rawValue], !value.isNull else { continue }
            switch kind {
            case .schema:
                guard case .object(let schemas) = value else { throw invalid(kind.rawValue, "must be an object of name to schema") }
                for (name, schema) in schemas { result.append(PluginDeclaration(kind: kind, name: name, definition: schema)) }
            case .handler:
                guard case .array(let masks) = value else { throw invalid(kind.rawValue, "must be a list of event names or masks") }
                for (index, mask) in masks.enumerated() {
                    guard let name = mask.stringValue, !name.isEmpty else { throw invalid("\(kind.rawValue).\(index)", "must be a non-empty string") }
                    result.append(PluginDeclaration(kind: kind, name: name, definition: mask))
                }
            default:
                guard case .array(let entries) = value else { throw invalid(kind.rawValue, "must be a list of objects") }
                for (index, entry) in entries.enumerated() {
                    guard case .object = entry, let name = entry["name"]?.stringValue, !name.isEmpty else {
                        throw invalid("\(kind.rawValue).\(index).name", "must be a non-empty string")
                    }
                    result.append(PluginDeclaration(kind: kind, name: name, definition: entry))
                }
            }
        }
        return result
    }

    /// The names in an unregister's params: `{"methods": ["a.b"], "event_types": [...], ...}`.
    static func names(from params: JSON) throws(CallError) -> [(Kind, String)] {
        var result: [(Kind, String)] = []
        // Withdrawn in the reverse of declaring order: methods before the schemas they name.
        for kind in Kind.allCases.reversed() {
            guard let value = params[kind.rawValue], !value.isNull else { continue }
            guard case .array(let names) = value else { throw invalid(kind.rawValue, "must be a list of names") }
            for (index, name) in names.enumerated() {
                guard let name = name.stringValue else { throw invalid("\(kind.rawValue).\(index)", "must be a string") }
                result.append((kind, name))
            }
        }
        return result
    }

    static func invalid(_ attribute: String, _ message: String) -> CallError {
        CallError.validation(attribute, message)
    }
}
