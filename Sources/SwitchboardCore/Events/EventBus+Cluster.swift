/// The bus in a cluster: cluster-wide events go to the other nodes as they are published here, and theirs are
/// published here as they arrive, to handlers and subscribers alike, never sent on again.
extension EventBus {
    /// Joins the cluster: from now on each event of a cluster-wide type is also sent through `transport`.
    public func attach(cluster transport: any ClusterTransport) {
        state.withLock { state in
            state.cluster = transport
            state.routes = [:]
        }
    }

    /// Leaves it: events stay on this node again.
    public func detach() {
        state.withLock { state in
            state.cluster = nil
            state.routes = [:]
        }
    }

    /// Whether the bus is attached to a cluster.
    public var isClustered: Bool { state.withLock { $0.cluster != nil } }

    /// Publishes what other nodes sent, here only.
    public func receive(_ batch: [ClusterEvent]) {
        let messages = state.withLock { $0.clusterMessages }
        for received in batch {
            if let handler = messages[received.event.name] {
                handler(received.event)
                continue
            }
            publish(received.event.name, channel: nil, toCluster: false) { received.event }
        }
    }

    /// Sends the daemon's own message to the other nodes, where `onClusterMessage`'s handler of its name takes it
    /// instead of any subscriber or handler. Nothing when not in a cluster.
    func sendToCluster(_ event: Event) {
        state.withLock { $0.cluster }?.send(event)
    }

    /// Takes the daemon's own messages of one name that other nodes send (`sendToCluster`).
    func onClusterMessage(_ name: String, _ handler: @escaping Handler) {
        state.withLock { $0.clusterMessages[name] = handler }
    }

    /// Publishes the event announcing a stored change. When the datastore stored it for the other nodes in the
    /// change's own transaction (`relayed`), it is published here only; otherwise as any event.
    public func publish(_ change: AnnouncedChange) {
        publish(change.event.name, channel: nil, toCluster: !change.relayed) { change.event }
    }

    /// Sends events already published here to the other nodes, those of cluster-wide types: for a writer whose
    /// datastore did not store them with their change.
    func relay(_ events: [Event]) {
        for event in events {
            state.withLock { $0.route(event.name).cluster }?.send(event)
        }
    }

    /// Zephserver's `say`: the event reaches every node, whatever its type's scope (or with no declared type).
    public func say(_ event: Event) {
        let cluster = state.withLock { $0.cluster }
        cluster?.send(event)
        publish(event.name, channel: nil, toCluster: false) { event }
    }
}
