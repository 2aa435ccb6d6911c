import Logging
import Synchronization

/// What a plugin's `setUp` receives: its configuration section and the ways to register what it offers.
public final class PluginContext: Sendable {
    public let plugin: String
    /// The plugin's section of the configuration file (`plugins.<name>`), `{}` when absent.
    public let configuration: JSON
    public let runtime: Runtime
    public let logger: Logger

    private let registered = Mutex<[String]>([])

    init(plugin: String, configuration: JSON, runtime: Runtime) {
        self.plugin = plugin
        self.configuration = configuration
        self.runtime = runtime
        var logger = runtime.logger
        logger[metadataKey: "plugin"] = .string(plugin)
        self.logger = logger
    }

    public var datastore: any Datastore { runtime.datastore }
    public var events: EventBus { runtime.events }

    public func register(_ service: ServiceDescriptor) {
        var service = service
        service.plugin = plugin
        runtime.registry.register(service)
    }

    public func register(_ method: MethodDescriptor) throws {
        try runtime.registry.register(method)
        registered.withLock { $0.append(method.name) }
    }

    /// Registers an event source (`register_event_source`).
    public func register(_ source: EventSourceDescriptor) {
        runtime.events.register(source)
    }

    /// Registers an event type plugins emit (`emit`) and clients subscribe to.
    public func register(_ type: EventTypeDescriptor) {
        runtime.events.register(type)
    }

    /// Registers a server-side handler for events matching `mask` (`register_event_handler`).
    @discardableResult
    public func onEvent(_ mask: String, _ handler: @escaping EventBus.Handler) -> EventBus.Token {
        runtime.events.addHandler(mask: mask, handler)
    }

    public func emit(_ event: Event) {
        runtime.events.publish(event)
    }

    /// Every role a user or key can be granted: the built-in ones and each role a registered method or event type
    /// admits (`AUTHENTICATED` is a pseudo-role of every session, never granted). Read it when granting, so that
    /// a typo (`FULL_ADMN`) is refused rather than stored as a role nothing admits.
    public var knownRoles: Set<String> {
        var roles = Set(Role.builtIn)
        for method in runtime.registry.methods { roles.formUnion(method.roles) }
        for type in runtime.events.types { roles.formUnion(type.roles) }
        roles.remove(Role.authenticated)
        return roles
    }

    var registeredMethods: [String] { registered.withLock { $0 } }
}
