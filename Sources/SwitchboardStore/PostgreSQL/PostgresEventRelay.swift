import DequeModule
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization
import SwitchboardCore

/// Events between the daemons of a cluster, through their PostgreSQL database (docs/cluster.md).
///
/// Each event is a row of `switchboard_cluster_events`, numbered per origin node by `switchboard_cluster_heads`:
/// a node's batch takes the next numbers by updating its head row, whose lock it holds until commit, so its rows
/// commit in number order and a reader that has seen number n of a node has seen every earlier one. NOTIFY is only
/// a doorbell (sent in the same transaction, so it rings after commit): receivers read forward from their cursor
/// per origin on each ring and every `pollInterval`, so a lost notification or a dropped LISTEN connection delays
/// events but loses none, and payloads are not bound by NOTIFY's 8,000 bytes. Rows older than `retention` are
/// pruned; a receiver that fell further behind says how many it missed.
///
/// Bounds: the send queue holds at most `maxQueued` events (more are dropped, counted and logged: the database
/// has been away for that long); a read takes at most `batchSize` rows at a time.
public final class PostgresEventRelay: ClusterTransport {
    public struct Settings: Sendable {
        public var pollInterval: Duration = .milliseconds(500)
        public var retention: Duration = .seconds(600)
        public var maxQueued = 100_000
        public var batchSize = 5_000
        /// How long the doorbell check at start waits for its own notification.
        public var doorbellTimeout: Duration = .seconds(5)
        /// Where the LISTEN connection goes, when not where the datastore's pool goes: a pool behind PgBouncer in
        /// transaction mode, with LISTEN straight to PostgreSQL. The start checks that notifications arrive there.
        public var listenDSN: PostgresDSN?
        public init() {}
    }

    public let nodeName: String
    let datastore: PostgresDatastore
    let settings: Settings
    let logger: Logger
    static let channel = "switchboard_events"

    /// A datastore change whose event must be stored in its own transaction (`commit(_:)`): it joins the next
    /// batch, after the events queued before it, so a node's events keep their order.
    struct Change: Sendable {
        let apply: @Sendable (PostgresConnection) async throws -> Applied?
        let done: CheckedContinuation<Applied?, any Error>
    }

    /// What a change made: the key of the row it changed (0 for a batch of rows) and the events announcing it.
    struct Applied: Sendable {
        let id: Int64
        let events: [Event]
    }

    enum Outgoing: Sendable {
        case event(Event)
        case change(Change)
    }

    struct Outbox {
        var queue = Deque<Outgoing>()
        /// Items queued since start, and of those done (stored, or a change refused): `flush` waits for the second
        /// to reach the first.
        var queued: Int64 = 0
        var done: Int64 = 0
        var dropped = 0
        var flushes: [(target: Int64, continuation: CheckedContinuation<Void, any Error>)] = []
        var stopping = false
    }

    let outbox = Mutex(Outbox())
    /// Rings the writer (an event queued) and the reader (a notification or a poll).
    let writerBell: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation)
    let readerBell: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation)
    /// The doorbell check's token while it waits.
    let pendingCheck = Mutex<(token: String, heard: AsyncStream<Void>.Continuation)?>(nil)
    let tasks = Mutex<[Task<Void, Never>]>([])

    public init(datastore: PostgresDatastore, nodeName: String, logger: Logger, settings: Settings = Settings()) {
        self.datastore = datastore
        self.nodeName = nodeName
        self.settings = settings
        var logger = logger
        logger[metadataKey: "cluster"] = .string(nodeName)
        self.logger = logger
        writerBell = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        readerBell = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    public var dropped: Int { outbox.withLock { $0.dropped } }

    public func send(_ event: Event) {
        let accepted = outbox.withLock { state -> Bool in
            guard !state.stopping, state.queue.count < settings.maxQueued else {
                state.dropped += 1
                return false
            }
            state.queue.append(.event(event))
            state.queued += 1
            return true
        }
        if accepted {
            writerBell.continuation.yield()
        } else if dropped.isMultiple(of: 1_000) || dropped == 1 {
            logger.error("cluster events dropped: the send queue is full (the database has been away too long)",
                         metadata: ["dropped": .stringConvertible(dropped), "queue": .stringConvertible(settings.maxQueued)])
        }
    }

    /// Runs `apply` (a datastore change) in the transaction that stores the events it returns for the other
    /// nodes, after every event this node queued before it; nil when `apply` found nothing to change.
    /// - Throws: what `apply` threw (the change and its events are then both undone), or why the transaction failed.
    func commit(_ apply: @escaping @Sendable (PostgresConnection) async throws -> Applied?) async throws -> Applied? {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Applied?, any Error>) in
            // A change is never dropped for the bound: its caller waits for it, which bounds them.
            let accepted = outbox.withLock { state -> Bool in
                guard !state.stopping else { return false }
                state.queue.append(.change(Change(apply: apply, done: done)))
                state.queued += 1
                return true
            }
            if accepted {
                writerBell.continuation.yield()
            } else {
                done.resume(throwing: CallError.busy("The daemon is stopping; the change was not made"))
            }
        }
    }

    public func flush() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let done = outbox.withLock { state -> Bool in
                if state.done >= state.queued { return true }
                state.flushes.append((state.queued, continuation))
                return false
            }
            if done { continuation.resume() }
        }
    }

    public func start(deliver: @escaping @Sendable ([ClusterEvent]) -> Void) async throws {
        try await prepareTables()
        let cursors = try await heads()
        let (heard, heardSink) = AsyncStream<Void>.makeStream()
        let listener = Task { await self.listen() }
        let writer = Task { await self.write() }
        let reader = Task { await self.read(from: cursors, deliver: deliver) }
        let poller = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: self.settings.pollInterval)
                self.readerBell.continuation.yield()
            }
        }
        let pruner = Task { await self.prune() }
        tasks.withLock { $0 = [listener, writer, reader, poller, pruner] }
        // The doorbell check: a notification sent through the pool must reach the LISTEN connection. A pooler
        // in transaction mode (PgBouncer) accepts LISTEN and never delivers; the cluster would then rely on its
        // polls alone, silently slower.
        let token = "check:\(UUID().uuidString)"
        pendingCheck.withLock { $0 = (token, heardSink) }
        defer { pendingCheck.withLock { $0 = nil } }
        let deadline = ContinuousClock.now.advanced(by: settings.doorbellTimeout)
        var iterator = heard.makeAsyncIterator()
        let ring = Task {
            // Until the LISTEN connection is up, a notification has no one to reach: ring again until heard.
            while !Task.isCancelled, ContinuousClock.now < deadline {
                _ = try? await datastore.rows("SELECT pg_notify(?, ?)", [.text(Self.channel), .text(token)])
                try? await Task.sleep(for: .milliseconds(100))
            }
            heardSink.finish()
        }
        defer { ring.cancel() }
        guard await iterator.next() != nil else {
            await stop()
            throw CallError(Errno.EIO, "LISTEN/NOTIFY does not reach this node through \(datastore.dsn.redacted): a notification sent "
                            + "did not arrive within \(settings.doorbellTimeout.components.seconds) s. A connection pooler in transaction "
                            + "mode drops notifications; point datastore.dsn at PostgreSQL itself or a session-mode pool")
        }
        // From now on the datastore's announced changes commit with their events, in this node's order.
        datastore.relay.withLock { $0 = self }
    }

    public func stop() async {
        datastore.relay.withLock { relay in if relay === self { relay = nil } }
        outbox.withLock { $0.stopping = true }
        // What was queued is stored first, as far as the datastore's timeout allows.
        let deadline = ContinuousClock.now.advanced(by: datastore.timeout)
        while ContinuousClock.now < deadline, outbox.withLock({ $0.done < $0.queued }) {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let running = tasks.withLock { tasks -> [Task<Void, Never>] in
            defer { tasks = [] }
            return tasks
        }
        for task in running { task.cancel() }
        writerBell.continuation.finish()
        readerBell.continuation.finish()
        for task in running { await task.value }
        let (waiting, changes) = outbox.withLock { state -> ([CheckedContinuation<Void, any Error>], [Change]) in
            defer { state.flushes = [] }
            let changes = state.queue.compactMap { item -> Change? in
                if case .change(let change) = item { return change }
                return nil
            }
            state.queue.removeAll { if case .change = $0 { return true } else { return false } }
            return (state.flushes.map(\.continuation), changes)
        }
        for continuation in waiting { continuation.resume(throwing: CancellationError()) }
        // Changes the datastore could not take before the deadline were not made: their callers hear it.
        for change in changes { change.done.resume(throwing: CallError.busy("The daemon is stopping; the change was not made")) }
    }
}
