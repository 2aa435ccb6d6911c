import SwitchboardCore

/// `core.emit_event`: a client publishes an event, as FreeNAS 10's helper daemons did with `events/event` and
/// `events/event_burst` (the envelope dialect calls this method for each one).
///
/// Only FULL_ADMIN may: subscribers take an event as the daemon's word, and FreeNAS 10's "any logged-in client"
/// would let a read-only user forge the events other clients act on. The name must be a declared event type, so
/// that the type's roles say who receives it and its schema checks the fields; event sources' names are refused,
/// because their events belong to one producer per argument.
enum EventMethods {
    static func register(in context: PluginContext) throws {
        try context.register(MethodDescriptor(
            MethodName.emitEvent,
            description: "Publishes an event of a declared event type (core.get_events) to its subscribers and the daemon's "
                + "handlers, as if a plugin had emitted it: args are its fields (checked against the type's schema), its id is "
                + "args.id when there is one. FreeNAS 10's events/event and events/event_burst call this.",
            params: [
                Parameter("name", schema: ["type": "string", "minLength": 1, "maxLength": 256]),
                Parameter("args", schema: true, default: .object([:])),
                Parameter("kind", schema: ["enum": ["added", "changed", "removed"]], default: "changed"),
            ],
            returns: ["type": "null"]
        ) { _, args in
            let name = args[0].stringValue ?? ""
            let kind = args[2].stringValue.flatMap(EventKind.init(rawValue:)) ?? .changed
            try context.emit(event(name, fields: args[1], kind: kind, registry: context.registry))
            return .null
        })
    }

    /// The event a client asked for, or why it may not be emitted.
    static func event(_ name: String, fields: JSON, kind: EventKind, registry: RegistryView) throws(CallError) -> Event {
        guard let type = registry.eventType(name) else {
            throw CallError(Errno.ENOENT, "No event type named \(name): a plugin declares the event types clients may emit (core.get_events)")
        }
        if registry.isEventSource(name) {
            throw CallError(Errno.EPERM, "\(name) is an event source's: only its producer emits it")
        }
        if type.schema != true {
            let schema: Schema
            do { schema = try registry.compile(type.schema) } catch {
                throw CallError(Errno.EINVAL, "The schema of event type \(name) cannot be used: \(error)")
            }
            let issues = schema.validate(fields, path: "args")
            if !issues.isEmpty { throw CallError.validation(issues) }
        }
        return Event(name: name, kind: kind, id: fields["id"] ?? .null, fields: fields)
    }
}
