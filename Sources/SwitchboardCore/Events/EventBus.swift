import Synchronization

/// Where events are published; subscribers and server-side handlers receive those matching their mask.
///
/// Masks: an exact name, `*` for every event, or `prefix.*` for a namespace.
/// Handlers run synchronously in `publish` and must return quickly: they hand work off, they do not do it.
public final class EventBus: Sendable {
    public typealias Handler = @Sendable (Event) -> Void

    public struct Token: Hashable, Sendable {
        let value: UInt64
    }

    struct Entry {
        let mask: String
        let handler: Handler
    }

    struct State {
        var next: UInt64 = 0
        var entries: [UInt64: Entry] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    @discardableResult
    public func addHandler(mask: String, _ handler: @escaping Handler) -> Token {
        state.withLock { state in
            state.next += 1
            state.entries[state.next] = Entry(mask: mask, handler: handler)
            return Token(value: state.next)
        }
    }

    public func removeHandler(_ token: Token) {
        state.withLock { _ = $0.entries.removeValue(forKey: token.value) }
    }

    public func publish(_ event: Event) {
        let handlers = state.withLock { state in
            state.entries.values.filter { Self.matches(mask: $0.mask, name: event.name) }.map(\.handler)
        }
        for handler in handlers { handler(event) }
    }

    public static func matches(mask: String, name: String) -> Bool {
        if mask == "*" || mask == name { return true }
        if mask.hasSuffix(".*") { return name.hasPrefix(mask.dropLast()) }
        return false
    }
}
