extension EventBus {
    /// Subscribes a session to a name or mask; returns the subscription id. A name that is an event source's
    /// (`name` or `name:{json}`) starts its producer for that argument if none runs yet.
    /// - Throws: `CallError` ENOENT for an unknown event name, EACCES when the session's roles do not admit it.
    public func subscribe(session: Session, name: String) throws(CallError) -> String {
        guard let credentials = session.credentials else { throw CallError.notAuthenticated }
        if let (source, argument) = try Self.sourceSubscription(name, sources) {
            guard credentials.allows(anyOf: source.roles) else { throw CallError.notAuthorized }
            let issues = (try? Schema(source.argumentSchema))?.validate(argument, path: "argument") ?? []
            if !issues.isEmpty { throw CallError.validation(issues) }
            let id = Session.makeID()
            let channel = EventSourceSupervisor.channel(source, argument)
            state.withLock { $0.add(Subscription(id: id, mask: source.name, session: session, channel: channel)) }
            sources.subscribe(id: id, channel: channel, source: source, argument: argument, bus: self)
            return id
        }
        let isMask = name == "*" || name.hasSuffix(".*")
        if !isMask {
            guard let type = type(name) else { throw CallError(Errno.ENOENT, "No event named \(name)") }
            guard credentials.allows(anyOf: type.roles) else { throw CallError.notAuthorized }
        }
        let id = Session.makeID()
        state.withLock { $0.add(Subscription(id: id, mask: name, session: session, channel: nil)) }
        return id
    }

    /// Removes a subscription of this session; false when it has no such subscription.
    @discardableResult
    public func unsubscribe(session: Session, id: String) -> Bool {
        let removed = state.withLock { state in
            guard let subscription = state.subscriptions[id], subscription.session === session else { return false }
            state.remove(id)
            return true
        }
        if removed { sources.unsubscribe(id: id) }
        return removed
    }

    /// Removes every subscription of a session (its connection closed).
    public func unsubscribeAll(session: Session) {
        let ids = state.withLock { state in
            let ids = state.bySession[ObjectIdentifier(session)] ?? []
            for id in ids { state.remove(id) }
            return ids
        }
        for id in ids { sources.unsubscribe(id: id) }
    }

    /// `name` or `name:{json}` naming an event source, with its argument (`null` without one).
    static func sourceSubscription(_ name: String, _ sources: EventSourceSupervisor) throws(CallError) -> (EventSourceDescriptor, JSON)? {
        if let source = sources.source(name) { return (source, .null) }
        guard let colon = name.firstIndex(of: ":"), let source = sources.source(String(name[..<colon])) else { return nil }
        let text = String(name[name.index(after: colon)...])
        guard let argument = try? JSON.parse(text) else {
            throw CallError.validation("name", "The argument after '\(source.name):' is not valid JSON")
        }
        return (source, argument)
    }

    /// Ends subscriptions whose stream is gone and tells each of their sessions once, in its dialect's words
    /// (JSON-RPC `notify_unsubscribed`, DDP `nosub`, the envelope's `events` `unsubscribed`).
    func end(_ ids: [String], name: String, error: CallError?) {
        let sessions = state.withLock { state -> [Session] in
            var seen = Set<ObjectIdentifier>()
            var sessions: [Session] = []
            for id in ids {
                guard let subscription = state.subscriptions[id] else { continue }
                state.remove(id)
                if seen.insert(ObjectIdentifier(subscription.session)).inserted { sessions.append(subscription.session) }
            }
            return sessions
        }
        for session in sessions { session.outbox?.unsubscribed(name: name, error: error) }
    }

    /// Withdraws an event type (or event source) that its plugin no longer offers: producers stop, and every
    /// subscription naming it ends with `reason` told to its session. Masks (`*`, `prefix.*`) stay: they name
    /// no type, and receive the type again if it comes back.
    public func unregister(event name: String, reason: String) {
        let sourceIDs = sources.unregister(name)
        let ids = state.withLock { state -> [String] in
            if state.types.removeValue(forKey: name) != nil { state.invalidate(name) }
            return state.subscriptions.values.filter { $0.mask == name }.map(\.id)
        }
        end(Array(Set(ids + sourceIDs)), name: name, error: CallError(Errno.ENOENT, reason))
    }
}
