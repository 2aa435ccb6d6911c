/// Event types, event sources, server-side handlers and emitting (`register_event_type`,
/// `register_event_source`, `register_event_handler`, `emit_event`).
extension PluginContext {
    /// Registers an event type that this plugin emits and clients subscribe to.
    /// - Throws: `CallError` EEXIST when another registration has the name.
    public func register(_ type: EventTypeDescriptor) throws {
        try claim(type.name)
        runtime.events.register(type)
        ledger.withLock { $0.eventTypes.append(type.name) }
    }

    /// Registers an event source: a producer run while someone subscribes (`name` or `name:{argument}`).
    /// - Throws: `CallError` EEXIST when another registration has the name.
    public func register(_ source: EventSourceDescriptor) throws {
        try claim(source.name)
        runtime.events.register(source, plugin: plugin)
        ledger.withLock { $0.eventSources.append(source.name) }
    }

    /// Withdraws an event type or source: its producers stop and each subscription naming it ends with the
    /// dialect's end-of-subscription message.
    public func unregister(event name: String) {
        unregister(event: name, message: "Event \(name) was withdrawn by plugin \(plugin)")
    }

    /// `message` is what each subscriber is told.
    func unregister(event name: String, message: String) {
        let owned = ledger.withLock { ledger in
            ledger.drop(name, from: \.eventTypes) || ledger.drop(name, from: \.eventSources)
        }
        guard owned else { return }
        runtime.events.unregister(event: name, reason: message)
    }

    /// Registers a server-side handler for events matching `mask` (an exact name, `*` or `prefix.*`). It runs
    /// inside `emit` and must not block: hand work off to a task.
    @discardableResult
    public func onEvent(_ mask: String, _ handler: @escaping EventBus.Handler) -> EventBus.Token {
        let token = runtime.events.addHandler(mask: mask, handler)
        ledger.withLock { $0.handlers.append(token) }
        return token
    }

    public func removeHandler(_ token: EventBus.Token) {
        guard ledger.withLock({ $0.drop(token, from: \.handlers) }) else { return }
        runtime.events.removeHandler(token)
    }

    /// Publishes an event to handlers and subscribers whose roles admit it.
    public func emit(_ event: Event) {
        runtime.events.publish(event)
    }

    /// Publishes an event built only if someone would receive it.
    public func emit(_ name: String, _ make: () -> Event) {
        runtime.events.publish(name, make)
    }

    /// Publishes the event of a change stored with `Datastore`'s `announcing:` calls: once here, and on the other
    /// nodes unless the datastore already carried it there in the change's transaction.
    public func announce(_ change: AnnouncedChange) {
        runtime.events.publish(change)
    }

    private func claim(_ name: String) throws(CallError) {
        if runtime.events.type(name) != nil {
            throw CallError(Errno.EEXIST, "Event \(name) is already registered")
        }
    }
}
