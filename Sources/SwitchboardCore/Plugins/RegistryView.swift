/// What the daemon offers now, read only: for introspection methods (`core.get_methods`) and plugins that
/// adapt to what else is loaded.
public struct RegistryView: Sendable {
    let runtime: Runtime

    /// For the daemon's own HTTP routes, which describe the registry as a plugin would see it.
    public init(runtime: Runtime) { self.runtime = runtime }

    public var services: [ServiceDescriptor] { runtime.registry.services }
    public var methods: [MethodDescriptor] { runtime.registry.methods }
    public func method(_ name: String) -> MethodDescriptor? { runtime.registry.method(name) }
    public var eventTypes: [EventTypeDescriptor] { runtime.events.types }
    /// The event type of this name, when a plugin declared one (an event source declares its own).
    public func eventType(_ name: String) -> EventTypeDescriptor? { runtime.events.type(name) }
    /// Whether an event source produces this name's events: they go out on each subscriber's argument, so only
    /// its producer may emit them.
    public func isEventSource(_ name: String) -> Bool { runtime.events.sources.source(name) != nil }
    /// A schema (an event type's, say) compiled with the named definitions its `$ref`s point at.
    public func compile(_ schema: JSON) throws -> Schema { try Schema(SchemaDefinitions.linked(schema, schemaDefinitions)) }
    /// Named schema definitions, by name.
    public var schemaDefinitions: [String: JSON] { runtime.registry.definitions }
    /// The named schema definitions as one object, by name in order: what `core.get_schemas` answers.
    public var schemaDocument: JSON {
        .object(JSONObject(uniqueKeysWithValues: schemaDefinitions.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
    }
    public var httpRoutes: [HTTPRouteKey] { runtime.httpRoutes.keys }
    /// Event-source producers running now (one per source and argument).
    public var runningEventSources: Int { runtime.events.runningSources }
    /// How many sessions an event of this name would be delivered to.
    public func subscriberCount(_ event: String) -> Int { runtime.events.subscriptionCount(event) }

    /// Every role a user or key can be granted: the built-in ones and each role a method or event type admits.
    public var knownRoles: Set<String> {
        var roles = Set(Role.builtIn)
        for method in methods { roles.formUnion(method.roles) }
        for type in eventTypes { roles.formUnion(type.roles) }
        roles.remove(Role.authenticated)
        return roles
    }
}
