/// One document of an event stream: what an `added`, `changed` or `removed` event is about.
public struct DocumentKey: Hashable, Sendable {
    public var name: String
    public var id: JSON

    public init(name: String, id: JSON) {
        self.name = name
        self.id = id
    }

    public init(_ event: Event) {
        self.init(name: event.name, id: event.id)
    }
}
