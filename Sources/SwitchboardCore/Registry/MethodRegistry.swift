import Synchronization

/// Every service, method and named schema definition the loaded plugins registered.
///
/// Lookups happen on every call; the table is behind a mutex and is written only while plugins load, unload
/// or reload.
public final class MethodRegistry: Sendable {
    struct Table {
        var methods: [String: MethodDescriptor] = [:]
        var services: [String: ServiceDescriptor] = [:]
        var definitions = SchemaDefinitions()
    }

    private let table = Mutex(Table())

    public init() {}

    /// Registers a method, linked to the schema definitions its schemas name.
    /// - Throws: `CallError` EEXIST when the name is taken, EINVAL when it names a definition that is not registered.
    public func register(_ method: MethodDescriptor) throws(CallError) {
        try table.withLock { table throws(CallError) in
            guard table.methods[method.name] == nil else {
                throw CallError(Errno.EEXIST, "Method \(method.name) is already registered")
            }
            var method = method
            if !method.references.isEmpty {
                try method.link(table.definitions.closure(method.references, for: "method \(method.name)"))
            }
            table.methods[method.name] = method
            if table.services[method.namespace] == nil {
                table.services[method.namespace] = ServiceDescriptor(name: method.namespace)
            }
        }
    }

    public func register(_ service: ServiceDescriptor) {
        table.withLock { $0.services[service.name] = service }
    }

    /// Removes a method; its service goes too when it was only implied by its methods and none is left.
    public func unregister(method name: String) {
        table.withLock { table in
            guard let method = table.methods.removeValue(forKey: name) else { return }
            let namespace = method.namespace
            if table.services[namespace]?.plugin == "", !table.methods.keys.contains(where: { $0.hasPrefix(namespace + ".") }) {
                table.services.removeValue(forKey: namespace)
            }
        }
    }

    public func unregister(service name: String) {
        table.withLock { _ = $0.services.removeValue(forKey: name) }
    }

    public func method(_ name: String) -> MethodDescriptor? {
        table.withLock { $0.methods[name] }
    }

    /// Where calls of `name` prefer to run (`MethodDescriptor.executor`), read without copying the descriptor:
    /// every call of every dialect asks.
    public func executor(for name: String) -> (any TaskExecutor)? {
        table.withLock { $0.methods[name]?.executor }
    }

    public var methods: [MethodDescriptor] {
        table.withLock { Array($0.methods.values) }.sorted { $0.name < $1.name }
    }

    public var services: [ServiceDescriptor] {
        table.withLock { Array($0.services.values) }.sorted { $0.name < $1.name }
    }

    // MARK: - Schema definitions

    /// - Throws: `CallError` EINVAL for a bad name or schema or a reference to a definition that does not
    ///   exist, EEXIST when the name is taken.
    public func register(definition name: String, schema: JSON, plugin: String) throws(CallError) {
        guard SchemaDefinitions.isValidName(name) else {
            throw CallError(Errno.EINVAL, "Schema definition name '\(name)' must be 1-128 letters, digits, '_', '.' or '-'")
        }
        let issues = Schema.definitionIssues(schema, path: "schemas.\(name)")
        if let first = issues.first {
            throw CallError(Errno.EINVAL, "schema definition \(name) is not a valid schema: \(first.attribute): \(first.message)")
        }
        try table.withLock { table throws(CallError) in
            guard table.definitions.entries[name] == nil else {
                throw CallError(Errno.EEXIST, "Schema definition \(name) is already registered")
            }
            let references = SchemaDefinitions.references(in: schema)
            _ = try table.definitions.closure(references.subtracting([name]), for: "schema definition \(name)")
            table.definitions.entries[name] = .init(schema: schema, plugin: plugin, references: references)
        }
    }

    /// - Throws: `CallError` EBUSY naming the methods and definitions that still refer to it.
    public func unregister(definition name: String) throws(CallError) {
        try table.withLock { table throws(CallError) in
            guard table.definitions.entries[name] != nil else { return }
            let methods = table.methods.values.filter { $0.references.contains(name) }.map(\.name).sorted()
            let definitions = table.definitions.entries.filter { $0.key != name && $0.value.references.contains(name) }.map(\.key).sorted()
            guard methods.isEmpty && definitions.isEmpty else {
                let users = (methods.map { "method \($0)" } + definitions.map { "schema definition \($0)" }).joined(separator: ", ")
                throw CallError(Errno.EBUSY, "Schema definition \(name) is still referred to by \(users)",
                                extra: ["methods": JSON(strings: methods), "definitions": JSON(strings: definitions)])
            }
            table.definitions.entries.removeValue(forKey: name)
        }
    }

    /// Every named definition, by name.
    public var definitions: [String: JSON] {
        table.withLock { $0.definitions.entries.mapValues(\.schema) }
    }
}
