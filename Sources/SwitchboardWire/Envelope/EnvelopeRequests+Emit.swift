import SwitchboardCore

/// Events a FreeNAS 10 client emits: `events/event` with `{"name", "args"}`, and `events/event_burst` with
/// `{"events": [{"name", "args"}, ..]}` (its helper daemons batch what they gathered in a second). Each event is a
/// `core.emit_event` call, so the pipeline checks rights, the event type and its schema as for any caller.
extension EnvelopeRequests {
    /// The names of the two requests, which FreeNAS 10 answers with nothing when they succeed.
    static let emitNames: Set<String> = ["event", "event_burst"]

    /// Emits in order. A burst stops at the first event refused, whose place the error names; those before it
    /// were emitted, as FreeNAS 10's dispatcher did.
    func emit(_ events: [Emitted], session: Session) async throws(CallError) {
        for event in events {
            do {
                _ = try await call(MethodName.emitEvent, [.string(event.name), event.args], session: session)
            } catch {
                throw Self.placed(error, at: event.path)
            }
        }
    }

    struct Emitted {
        let name: String
        let args: JSON
        /// Where the event sits in the request (`args`, `args.events.3`), for the errors about it.
        let path: String
    }

    static func emitted(_ value: JSON, path: String) throws(CallError) -> Emitted {
        guard case .object(let event) = value else {
            throw CallError.validation(path, "An event is {\"name\": \"<event type>\", \"args\": {..}}")
        }
        guard case .string(let name)? = event["name"], !name.isEmpty else {
            throw CallError.validation(path + ".name", "The event's name (a non-empty string) is required")
        }
        return Emitted(name: name, args: event["args"] ?? .object([:]), path: path)
    }

    /// Every event of a burst is checked for its shape before the first is emitted.
    static func burst(_ args: JSON) throws(CallError) -> [Emitted] {
        guard case .array(let list)? = args["events"] else {
            throw CallError.validation("args.events", "An event burst is {\"events\": [{\"name\", \"args\"}, ..]}")
        }
        var events: [Emitted] = []
        events.reserveCapacity(list.count)
        for (index, item) in list.enumerated() {
            events.append(try emitted(item, path: "args.events.\(index)"))
        }
        return events
    }

    /// `core.emit_event`'s error, its attribute paths and reason placed in the request: its `args` parameter is
    /// the event's `args`, its `name` the event's `name`.
    static func placed(_ error: CallError, at path: String) -> CallError {
        guard !error.validation.isEmpty else {
            var placed = error
            if path != "args" { placed.reason = "\(path): \(error.reason)" }
            return placed
        }
        return CallError.validation(error.validation.map { issue in
            ValidationIssue(attribute: path + "." + issue.attribute, message: issue.message, errno: issue.errno)
        })
    }
}
