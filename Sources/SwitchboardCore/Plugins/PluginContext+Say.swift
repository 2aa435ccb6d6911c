/// Zephserver's `say(event, data)` and `subscribe(event, fn)`: plugin-to-plugin messages across the cluster.
extension PluginContext {
    /// Sends `data` as event `name` to every node's handlers and subscribers, this node's included, whatever
    /// the scope of the event's type (a name with no declared type reaches handlers and FULL_ADMIN sessions). On
    /// one node it is a plain `emit`. Each said message is an `added` event: messages are not changes of one
    /// document, so a subscriber that falls behind never has one superseded by the next, as `changed` events are.
    public func say(_ name: String, _ data: JSON) {
        runtime.events.say(Event(name: name, kind: .added, fields: data))
    }

    /// Runs `handler` for each event `name` (or mask) said on any node, emitted here, or emitted on another node
    /// with a cluster-wide type: `onEvent` under Zephserver's name. The handler must not block; it is withdrawn when the plugin unloads.
    @discardableResult
    public func subscribe(_ name: String, _ handler: @escaping EventBus.Handler) -> EventBus.Token {
        onEvent(name, handler)
    }
}
