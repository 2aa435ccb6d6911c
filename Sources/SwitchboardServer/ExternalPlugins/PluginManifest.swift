import SwitchboardCore

/// The identity part of a `plugin.hello`: what the loader needs before any plugin is set up. What the plugin
/// offers (methods, events, schemas) is read as `PluginDeclaration`s.
struct PluginManifest: Sendable, Equatable {
    let name: String
    let version: String?
    let dependencies: [String]
    /// The schema of its configuration section (`plugins.<name>`); any object when it gives none.
    let configurationSchema: JSON

    /// - Throws: `CallError` EINVAL naming the attribute at fault.
    init(_ hello: JSON) throws(CallError) {
        guard case .object = hello else { throw CallError.validation("hello", "the params must be an object") }
        guard let protocolVersion = hello["protocol"]?.intValue else {
            throw CallError.validation("hello.protocol", "the protocol version is required (this daemon speaks \(ExternalPlugin.protocolVersion))")
        }
        guard protocolVersion == ExternalPlugin.protocolVersion else {
            throw CallError.validation("hello.protocol", "this daemon speaks protocol \(ExternalPlugin.protocolVersion), not \(protocolVersion)")
        }
        guard let name = hello["name"]?.stringValue, Self.isValidName(name) else {
            throw CallError.validation("hello.name", "must be a name of letters, digits, '_', '-' and '.' (up to 64)")
        }
        self.name = name
        switch hello["version"] {
        case nil, .null?: version = nil
        case .string(let text)?: version = text
        default: throw CallError.validation("hello.version", "must be a string")
        }
        switch hello["dependencies"] {
        case nil, .null?: dependencies = []
        case .array(let items)?:
            var names: [String] = []
            for (index, item) in items.enumerated() {
                guard let dependency = item.stringValue, Self.isValidName(dependency) else {
                    throw CallError.validation("hello.dependencies.\(index)", "must be a plugin name")
                }
                names.append(dependency)
            }
            dependencies = names
        default: throw CallError.validation("hello.dependencies", "must be a list of plugin names")
        }
        let schema = hello["configuration_schema"] ?? .null
        if schema.isNull {
            configurationSchema = ["type": "object"]
        } else {
            if let issue = Schema.definitionIssues(schema, path: "hello.configuration_schema").first {
                throw CallError.validation(issue.attribute, issue.message)
            }
            configurationSchema = schema
        }
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
        }
    }
}
