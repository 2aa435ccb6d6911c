import Synchronization

/// Where events are published, and who receives them: server-side handlers and session subscriptions.
///
/// Masks: an exact name, `*` for every event, or `prefix.*` for a namespace. A session receives an event only
/// while authenticated, only if its roles admit the event's type, and only once per publish however many of
/// its subscriptions match. Handlers and deliveries run synchronously in `publish` and never block: handlers
/// hand work off, deliveries only queue an encoded frame.
public final class EventBus: Sendable {
    public typealias Handler = @Sendable (Event) -> Void

    public struct Token: Hashable, Sendable {
        let value: UInt64
    }

    struct HandlerEntry {
        let mask: String
        let handler: Handler
    }

    struct Subscription {
        let id: String
        let mask: String
        let session: Session
        /// For an event source's subscription, the producer whose events it takes (`name:` + argument): two
        /// arguments run two producers under one event name. `nil` takes every event the mask matches.
        let channel: String?
    }

    /// Who receives events of one name: worked out once, then reused by every publish of that name until a
    /// subscription, handler or type changes. Without it each publish matched every subscription's mask and
    /// deduplicated sessions, per subscriber, under the lock.
    final class Route: Sendable {
        /// A subscribed session and where its events go, looked up once per route rather than per publish.
        struct Delivery: Sendable {
            let session: Session
            let outbox: any EventOutbox
            /// The channels this session takes events of this name from; `nil` for all of them (a mask or a
            /// plain subscription), which is every delivery but an event source's.
            var channels: [String]?

            func takes(_ channel: String?) -> Bool {
                guard let channels, let channel else { return true }
                return channels.contains(channel)
            }
        }

        let handlers: [Handler]
        /// Each session that can receive events once.
        let deliveries: [Delivery]
        let type: EventTypeDescriptor?
        /// Where this name's events go for the other nodes: set for a cluster-wide type while the daemon is in
        /// a cluster.
        let cluster: (any ClusterTransport)?

        init(handlers: [Handler], deliveries: [Delivery], type: EventTypeDescriptor?, cluster: (any ClusterTransport)?) {
            self.handlers = handlers
            self.deliveries = deliveries
            self.type = type
            self.cluster = cluster
        }

        /// Whether publishing has anything to do: someone here listens, or the other nodes must be told.
        var isWatched: Bool { !handlers.isEmpty || !deliveries.isEmpty || cluster != nil }
    }

    /// Routes kept at most; beyond it they are all dropped (names are event types, so this is never reached
    /// in practice, but publishers choose names).
    static let maxRoutes = 4_096

    struct State {
        var next: UInt64 = 0
        var handlers: [UInt64: HandlerEntry] = [:]
        var subscriptions: [String: Subscription] = [:]
        /// Subscription ids per session, so a closing connection's are found without a scan of all.
        var bySession: [ObjectIdentifier: Set<String>] = [:]
        var types: [String: EventTypeDescriptor] = [:]
        var routes: [String: Route] = [:]
        /// The other nodes, while the daemon is in a cluster (`attach(cluster:)`).
        var cluster: (any ClusterTransport)?
        /// Who takes the daemon's own messages between nodes, by name (`onClusterMessage`).
        var clusterMessages: [String: Handler] = [:]

        /// Forgets the routes a subscription, handler or type with this mask could change.
        mutating func invalidate(_ mask: String) {
            if mask == "*" || mask.hasSuffix(".*") { routes = [:] } else { routes.removeValue(forKey: mask) }
        }

        mutating func add(_ subscription: Subscription) {
            subscriptions[subscription.id] = subscription
            bySession[ObjectIdentifier(subscription.session), default: []].insert(subscription.id)
            invalidate(subscription.mask)
        }

        mutating func remove(_ id: String) {
            guard let subscription = subscriptions.removeValue(forKey: id) else { return }
            let key = ObjectIdentifier(subscription.session)
            bySession[key]?.remove(id)
            if bySession[key]?.isEmpty == true { bySession.removeValue(forKey: key) }
            invalidate(subscription.mask)
        }

        mutating func route(_ name: String) -> Route {
            if let route = routes[name] { return route }
            var index: [ObjectIdentifier: Int] = [:]
            var deliveries: [Route.Delivery] = []
            for subscription in subscriptions.values where EventBus.matches(mask: subscription.mask, name: name) {
                guard let outbox = subscription.session.outbox else { continue }
                let channels = subscription.channel.map { [$0] }
                if let at = index[ObjectIdentifier(subscription.session)] {
                    // One delivery per session: it takes every channel once any of its subscriptions does.
                    if let channels, deliveries[at].channels != nil { deliveries[at].channels? += channels } else { deliveries[at].channels = nil }
                } else {
                    index[ObjectIdentifier(subscription.session)] = deliveries.count
                    deliveries.append(Route.Delivery(session: subscription.session, outbox: outbox, channels: channels))
                }
            }
            let type = types[name]
            let route = Route(handlers: handlers.values.filter { EventBus.matches(mask: $0.mask, name: name) }.map(\.handler),
                              deliveries: deliveries, type: type, cluster: type?.scope == .cluster ? cluster : nil)
            if routes.count >= EventBus.maxRoutes { routes = [:] }
            routes[name] = route
            return route
        }
    }

    let state = Mutex(State())
    let sources = EventSourceSupervisor()

    /// Events published and delivered, read by `/metrics`.
    public let counters: TrafficCounters

    public init(counters: TrafficCounters = TrafficCounters()) {
        self.counters = counters
    }

    // MARK: - Event sources

    /// Registers an event source and its event type.
    public func register(_ source: EventSourceDescriptor, plugin: String = "") {
        sources.register(source, plugin: plugin)
        register(EventTypeDescriptor(source.name, description: source.description, roles: source.roles))
    }

    /// Producers running now (one per source and argument).
    public var runningSources: Int { sources.runningCount }

    /// Every event source and its producers, as `worker.query` lists them.
    public var sourceStatuses: [WorkerStatus] { sources.statuses }

    // MARK: - Event types

    public func register(_ type: EventTypeDescriptor) {
        state.withLock { state in
            state.types[type.name] = type
            state.invalidate(type.name)
        }
    }

    public var types: [EventTypeDescriptor] {
        state.withLock { Array($0.types.values) }.sorted { $0.name < $1.name }
    }

    public func type(_ name: String) -> EventTypeDescriptor? {
        state.withLock { $0.types[name] }
    }

    // MARK: - Server-side handlers

    @discardableResult
    public func addHandler(mask: String, _ handler: @escaping Handler) -> Token {
        state.withLock { state in
            state.next += 1
            state.handlers[state.next] = HandlerEntry(mask: mask, handler: handler)
            state.invalidate(mask)
            return Token(value: state.next)
        }
    }

    public func removeHandler(_ token: Token) {
        state.withLock { state in
            guard let entry = state.handlers.removeValue(forKey: token.value) else { return }
            state.invalidate(entry.mask)
        }
    }

    // MARK: - Publishing

    /// Whether anyone (a handler, a subscription, or in a cluster the other nodes) would receive an event of
    /// this name.
    public func isWatched(_ name: String) -> Bool {
        state.withLock { $0.route(name).isWatched }
    }

    /// How many subscriptions an event of this name is delivered to (handlers not counted).
    public func subscriptionCount(_ name: String) -> Int {
        state.withLock { $0.route(name).deliveries.count }
    }

    /// Publishes an event here and, when its type is cluster-wide, on the other nodes.
    public func publish(_ event: Event) {
        publish(event.name) { event }
    }

    /// Publishes an event of an event source's producer: subscribers of that source receive it only if they
    /// subscribed with its argument (`channel`); everyone else whose subscription matches the name does.
    func publish(_ event: Event, channel: String) {
        publish(event.name, channel: channel, toCluster: true) { event }
    }

    /// Publishes an event that is built only if someone (a handler, a subscription, the other nodes) would
    /// receive it: for publishers whose events are costly to build.
    public func publish(_ name: String, _ make: () -> Event) {
        publish(name, channel: nil, toCluster: true, make)
    }

    /// `toCluster` false publishes on this node only: an event that came from another node, or one the datastore
    /// already stored for the others with the change it announces.
    func publish(_ name: String, channel: String?, toCluster: Bool, _ make: () -> Event) {
        let route = state.withLock { $0.route(name) }
        let cluster = toCluster ? route.cluster : nil
        guard !route.handlers.isEmpty || !route.deliveries.isEmpty || cluster != nil else {
            counters.eventPublished(deliveries: 0)
            return
        }
        let event = make()
        cluster?.send(event)
        for handler in route.handlers { handler(event) }
        guard !route.deliveries.isEmpty else {
            counters.eventPublished(deliveries: 0)
            return
        }
        let frames = EncodedFrames()
        let type = route.type
        var delivered = 0
        for delivery in route.deliveries where delivery.takes(channel) && delivery.session.admits(event, type: type) {
            delivery.outbox.deliver(event, frames: frames)
            delivered += 1
        }
        counters.eventPublished(deliveries: delivered)
        frames.wakes.flush()
    }

    static func admits(_ credentials: Credentials, type: EventTypeDescriptor?, event: Event) -> Bool {
        if credentials.isFullAdmin { return true }
        // Events of no declared type are for FULL_ADMIN only.
        guard let type, credentials.allows(anyOf: type.roles) else { return false }
        if let owner = event.owner { return owner == credentials.username }
        return true
    }

    public static func matches(mask: String, name: String) -> Bool {
        if mask == "*" || mask == name { return true }
        if mask.hasSuffix(".*") { return name.hasPrefix(mask.dropLast()) }
        return false
    }
}
