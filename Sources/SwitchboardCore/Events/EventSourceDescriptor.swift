/// A supervised producer of one event stream, started when its first subscriber arrives and stopped when the
/// last one leaves (Zephserver's services, the dispatcher's event sources).
///
/// A subscriber may pass an argument as `name:{json}`; each distinct argument runs its own producer. A producer
/// that throws is restarted with backoff; one that returns, or fails too often, ends the stream and its
/// subscribers get `notify_unsubscribed`.
public struct EventSourceDescriptor: Sendable {
    public typealias Emit = @Sendable (_ kind: EventKind, _ id: JSON, _ fields: JSON) -> Void
    public typealias Producer = @Sendable (_ argument: JSON, _ emit: @escaping Emit) async throws -> Void

    public var name: String
    public var description: String
    public var roles: [String]
    /// Schema of the argument after the colon; `null` is passed when there is none.
    public var argumentSchema: JSON
    /// Restarts allowed after failures before the stream is given up.
    public var maxRestarts: Int
    public var producer: Producer

    public init(_ name: String, description: String = "", roles: [String] = [], argumentSchema: JSON = true,
                maxRestarts: Int = 5, producer: @escaping Producer) {
        self.name = name
        self.description = description
        self.roles = roles
        self.argumentSchema = argumentSchema
        self.maxRestarts = maxRestarts
        self.producer = producer
    }
}
