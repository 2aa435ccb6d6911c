/// The three kinds of service a plugin can declare.
public enum ServiceKind: String, Sendable {
    /// Any set of methods.
    case plain = "service"
    /// One entity: `config` and `update`.
    case config
    /// A collection: `query`, `get_instance`, `create`, `update`, `delete`.
    case crud
}

/// A namespace of methods as `core.get_services` shows it.
public struct ServiceDescriptor: Sendable {
    public var name: String
    public var kind: ServiceKind
    public var description: String
    /// The plugin that registered it.
    public var plugin: String

    public init(name: String, kind: ServiceKind = .plain, description: String = "", plugin: String = "") {
        self.name = name
        self.kind = kind
        self.description = description
        self.plugin = plugin
    }
}
