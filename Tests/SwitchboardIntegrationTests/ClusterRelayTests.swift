import Foundation
import Logging
import Synchronization
import Testing
import SwitchboardCore
@testable import SwitchboardStore

/// One node: its datastore, its relay, and what it received.
final class RelayNode: Sendable {
    let name: String
    let store: PostgresDatastore
    let relay: PostgresEventRelay
    let received = Mutex<[ClusterEvent]>([])

    init(_ name: String, dsn: String, settings: PostgresEventRelay.Settings = .init()) async throws {
        self.name = name
        store = try await PostgresDatastore(dsn: PostgresDSN(dsn), logger: Logger(label: "test"), applicationName: "relay-\(name)")
        relay = PostgresEventRelay(datastore: store, nodeName: name, logger: Logger(label: "test"), settings: settings)
    }

    func start() async throws {
        try await relay.start { [self] batch in self.received.withLock { $0 += batch } }
    }

    func close() async {
        await relay.stop()
        try? await store.close()
    }

    func events(from origin: String) -> [Event] {
        received.withLock { $0.filter { $0.origin == origin }.map(\.event) }
    }

    func hasMarker(from origin: String) -> Bool {
        received.withLock { $0.contains { $0.origin == origin && $0.event.name == "test.marker" } }
    }
}

/// The cluster's event path on a real PostgreSQL server: three relays (three nodes' worth, each with its own
/// pool and LISTEN connection) on one database. Each test ends its senders with a marker event and waits for the
/// markers, so that "nothing more arrived" is proven by what arrived after it.
@Suite(.serialized) struct ClusterRelayTests {
    static func event(_ index: Int, _ payload: String = "") -> Event {
        Event(name: "test.tick", kind: .changed, id: .int(Int64(index)), fields: ["i": .int(Int64(index)), "payload": .string(payload)])
    }

    static let marker = Event(name: "test.marker", kind: .added)

    @Test func everyNodeGetsTheOthersEventsInOrderOnce() async throws {
        let dsn = try await TestPostgres.createDatabase()
        let nodes = [try await RelayNode("a", dsn: dsn), try await RelayNode("b", dsn: dsn), try await RelayNode("c", dsn: dsn)]
        for node in nodes { try await node.start() }
        let (a, b, c) = (nodes[0], nodes[1], nodes[2])
        // Two senders at once, one of them in many small batches.
        async let fromA: Void = {
            for index in 1...3_000 { a.relay.send(Self.event(index)) }
            a.relay.send(Self.marker)
        }()
        async let fromC: Void = {
            for index in 1...500 {
                c.relay.send(Self.event(index))
                if index.isMultiple(of: 50) { try? await c.relay.flush() }
            }
            c.relay.send(Self.marker)
        }()
        _ = await (fromA, fromC)
        try await eventually("every marker delivered") {
            b.hasMarker(from: "a") && b.hasMarker(from: "c") && a.hasMarker(from: "c") && c.hasMarker(from: "a")
        }
        for (receiver, origin, count) in [(b, "a", 3_000), (b, "c", 500), (a, "c", 500), (c, "a", 3_000)] {
            let ids = receiver.events(from: origin).filter { $0.name == "test.tick" }.compactMap { $0.id.intValue }
            #expect(ids == Array(1...Int64(count)), "\(receiver.name) from \(origin): \(ids.count) events, in order: \(ids == ids.sorted())")
        }
        // Nobody hears itself, and the numbers of each origin run 1, 2, 3, … with no gap.
        for node in nodes {
            #expect(node.events(from: node.name).isEmpty)
            let numbers = node.received.withLock { $0.filter { $0.origin == "a" }.map(\.sequence) }
            if !numbers.isEmpty { #expect(numbers == Array(1...Int64(numbers.count))) }
        }
        #expect(nodes.allSatisfy { $0.relay.dropped == 0 })
        for node in nodes { await node.close() }
        await TestPostgres.dropDatabase(dsn)
    }

    /// NOTIFY carries no payload here, so an event is not bound by its 8,000 bytes.
    @Test func anEventLargerThanANotificationCrosses() async throws {
        let dsn = try await TestPostgres.createDatabase()
        let a = try await RelayNode("a", dsn: dsn), b = try await RelayNode("b", dsn: dsn)
        try await a.start()
        try await b.start()
        let big = String(repeating: "é", count: 100_000)
        a.relay.send(Self.event(1, big))
        a.relay.send(Self.marker)
        try await eventually("the marker after the large event") { b.hasMarker(from: "a") }
        #expect(b.events(from: "a").first?.fields["payload"] == .string(big))
        await a.close()
        await b.close()
        await TestPostgres.dropDatabase(dsn)
    }

    /// PostgreSQL ends a node's LISTEN connection: events sent meanwhile still arrive (read on the next poll and
    /// when the connection is back), none twice.
    @Test func aLostListenConnectionLosesNothing() async throws {
        let dsn = try await TestPostgres.createDatabase()
        let a = try await RelayNode("a", dsn: dsn), b = try await RelayNode("b", dsn: dsn)
        try await a.start()
        try await b.start()
        for index in 1...100 { a.relay.send(Self.event(index)) }
        try await a.relay.flush()
        let ended = try await TestPostgres.run(TestPostgres.admin(), """
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'relay-b listen'
            """)
        #expect(ended.count == 1)
        for index in 101...300 { a.relay.send(Self.event(index)) }
        a.relay.send(Self.marker)
        try await eventually("the marker after the LISTEN connection was ended") { b.hasMarker(from: "a") }
        #expect(b.events(from: "a").filter { $0.name == "test.tick" }.compactMap { $0.id.intValue } == Array(1...300))
        await a.close()
        await b.close()
        await TestPostgres.dropDatabase(dsn)
    }

    /// A node that starts reads from the heads it finds: it gets what is sent after, not the past.
    @Test func aStartingNodeBeginsAtTheHeads() async throws {
        let dsn = try await TestPostgres.createDatabase()
        let a = try await RelayNode("a", dsn: dsn)
        try await a.start()
        for index in 1...10 { a.relay.send(Self.event(index)) }
        try await a.relay.flush()
        let late = try await RelayNode("late", dsn: dsn)
        try await late.start()
        a.relay.send(Self.event(11))
        a.relay.send(Self.marker)
        try await eventually("the marker sent after the late node started") { late.hasMarker(from: "a") }
        #expect(late.events(from: "a").compactMap { $0.id.intValue } == [11])
        #expect(late.received.withLock { $0.first?.sequence } == 11)
        await a.close()
        await late.close()
        await TestPostgres.dropDatabase(dsn)
    }

    /// Rows older than the retention are deleted; the numbering goes on from the heads.
    @Test func oldRowsArePrunedAndNumberingGoesOn() async throws {
        let dsn = try await TestPostgres.createDatabase()
        let a = try await RelayNode("a", dsn: dsn), b = try await RelayNode("b", dsn: dsn)
        try await a.start()
        try await b.start()
        for index in 1...20 { a.relay.send(Self.event(index)) }
        try await a.relay.flush()
        try await a.relay.pruneOnce(olderThan: .zero)
        #expect(try await a.store.rows("SELECT count(*) FROM switchboard_cluster_events", []).first?.decode(Int64.self) == 0)
        a.relay.send(Self.marker)
        try await eventually("the marker after pruning") { b.hasMarker(from: "a") }
        #expect(b.received.withLock { $0.last?.sequence } == 21)
        await a.close()
        await b.close()
        await TestPostgres.dropDatabase(dsn)
    }

    /// Notifications that never reach the LISTEN connection (here it listens on another database, as behind a
    /// pooler in transaction mode) stop the start with the reason.
    @Test func aDoorbellThatNeverRingsStopsTheStart() async throws {
        let dsn = try await TestPostgres.createDatabase()
        let elsewhere = try await TestPostgres.createDatabase()
        var settings = PostgresEventRelay.Settings()
        settings.listenDSN = try PostgresDSN(elsewhere)
        settings.doorbellTimeout = .seconds(2)
        let node = try await RelayNode("a", dsn: dsn, settings: settings)
        let error = await #expect(throws: CallError.self) { try await node.start() }
        #expect(error?.reason.hasPrefix("LISTEN/NOTIFY does not reach this node through postgres://") == true, "\(String(describing: error))")
        #expect(error?.reason.hasSuffix("point datastore.dsn at PostgreSQL itself or a session-mode pool") == true)
        await node.close()
        await TestPostgres.dropDatabase(dsn)
        await TestPostgres.dropDatabase(elsewhere)
    }
}
