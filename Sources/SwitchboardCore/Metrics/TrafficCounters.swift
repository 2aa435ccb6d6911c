import Synchronization

/// Counts the daemon keeps whether or not metrics are served: events published and delivered, connections
/// closed for falling behind, and outbound frames dropped. Each is one relaxed atomic add where it happens, so
/// the fan-out and the outbound queues pay nothing more; `/metrics` reads them when it is scraped.
public final class TrafficCounters: Sendable {
    private let published = Atomic<Int>(0)
    private let delivered = Atomic<Int>(0)
    private let overflows = Atomic<Int>(0)
    private let dropped = Atomic<Int>(0)

    public init() {}

    func eventPublished(deliveries: Int) {
        published.add(1, ordering: .relaxed)
        if deliveries > 0 { delivered.add(deliveries, ordering: .relaxed) }
    }

    /// A connection's queue overflowed: it is closed (1008), and the frames it held are lost.
    func overflowed(dropping frames: Int) {
        overflows.add(1, ordering: .relaxed)
        dropped.add(frames, ordering: .relaxed)
    }

    /// A frame was offered to a queue that had already ended.
    func refused() {
        dropped.add(1, ordering: .relaxed)
    }

    /// Events published (whether or not anyone received them).
    public var eventsPublished: Int { published.load(ordering: .relaxed) }
    /// Event deliveries: one per session an event was queued for.
    public var eventsDelivered: Int { delivered.load(ordering: .relaxed) }
    /// Connections closed because their outbound queue overflowed (a client too slow).
    public var slowConsumersClosed: Int { overflows.load(ordering: .relaxed) }
    /// Outbound frames dropped: those an overflowing queue held, and those offered after a queue ended.
    public var outboundDropped: Int { dropped.load(ordering: .relaxed) }
}
