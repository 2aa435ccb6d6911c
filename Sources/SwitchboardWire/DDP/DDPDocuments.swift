import Synchronization
import SwitchboardCore

/// What one DDP connection has been told: which documents it holds per collection, and which of its subs
/// map to which bus subscriptions.
///
/// DDP clients keep a local copy of each collection, so a `changed` for a document they never saw `added`
/// breaks them (middlewared clients raise, Meteor clients drop the connection): the first news of a
/// document is always `added`, and `removed` is sent only for documents the client holds.
public final class DDPDocuments: Sendable {
    struct State {
        var held = Set<String>()
        /// Client sub id (keyed by its JSON text, so "1" and 1 differ) -> the id itself, its bus subscription
        /// and event name.
        var subs: [String: (id: JSON, bus: String, name: String)] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// The kind to send for `event`, or nil when nothing should be sent.
    public func kind(for event: Event) -> EventKind? {
        let key = event.name + "\u{0}" + event.id.encodedString()
        return state.withLock { state in
            switch event.kind {
            case .added, .changed:
                return state.held.insert(key).inserted ? .added : .changed
            case .removed:
                return state.held.remove(key) != nil ? .removed : nil
            }
        }
    }

    public func addSub(_ clientID: JSON, bus: String, name: String) {
        state.withLock { $0.subs[clientID.encodedString()] = (clientID, bus, name) }
    }

    /// The bus subscription of a client sub, forgotten.
    public func removeSub(_ clientID: JSON) -> String? {
        state.withLock { $0.subs.removeValue(forKey: clientID.encodedString())?.bus }
    }

    public func hasSub(_ clientID: JSON) -> Bool {
        state.withLock { $0.subs[clientID.encodedString()] != nil }
    }

    /// The client subs on an event name (an event source that ended), forgotten.
    public func removeSubs(named name: String) -> [JSON] {
        state.withLock { state in
            let ended = state.subs.filter { $0.value.name == name }
            for key in ended.keys { state.subs.removeValue(forKey: key) }
            return ended.values.map(\.id)
        }
    }
}
