import Synchronization

/// Every service and method the loaded plugins registered.
///
/// Lookups happen on every call; the table is behind a mutex and is written only while plugins load.
public final class MethodRegistry: Sendable {
    struct Table {
        var methods: [String: MethodDescriptor] = [:]
        var services: [String: ServiceDescriptor] = [:]
    }

    private let table = Mutex(Table())

    public init() {}

    /// - Throws: `CallError` EEXIST when the name is taken.
    public func register(_ method: MethodDescriptor) throws {
        try table.withLock { table in
            guard table.methods[method.name] == nil else {
                throw CallError(Errno.EEXIST, "Method \(method.name) is already registered")
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

    /// Removes everything a plugin registered (on reload).
    public func unregister(plugin: String, methods names: [String]) {
        table.withLock { table in
            for name in names { table.methods.removeValue(forKey: name) }
            let remaining = table.methods
            table.services = table.services.filter { name, service in
                service.plugin != plugin || remaining.keys.contains { $0.hasPrefix(name + ".") }
            }
        }
    }

    public func method(_ name: String) -> MethodDescriptor? {
        table.withLock { $0.methods[name] }
    }

    public var methods: [MethodDescriptor] {
        table.withLock { Array($0.methods.values) }.sorted { $0.name < $1.name }
    }

    public var services: [ServiceDescriptor] {
        table.withLock { Array($0.services.values) }.sorted { $0.name < $1.name }
    }
}
