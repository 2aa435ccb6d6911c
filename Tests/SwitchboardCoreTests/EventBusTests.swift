import Synchronization
import Testing
@testable import SwitchboardCore

/// An outbox that records the ids of the events it was given.
final class RecordingOutbox: EventOutbox {
    let received = Mutex<[String]>([])
    func deliver(_ event: Event, frames: EncodedFrames) { received.withLock { $0.append("\(event.name)#\(event.id)") } }
    func unsubscribed(name: String, error: CallError?) { received.withLock { $0.append("end:\(name):\(error?.reason ?? "")") } }
    var all: [String] { received.withLock { $0 } }
}

/// Publishing reuses a route per event name; every change of subscriptions, handlers or types must show in
/// the very next publish.
@Suite struct EventBusTests {
    static func session(_ roles: Set<String> = [Role.fullAdmin], owner: String = "root") -> (Session, RecordingOutbox) {
        let outbox = RecordingOutbox()
        let session = Session(dialect: "jsonrpc", origin: .tcp(address: "127.0.0.1", port: 1),
                              credentials: Credentials(username: owner, roles: roles, mechanism: .passwordPlain), outbox: outbox)
        return (session, outbox)
    }

    @Test func routesFollowEveryChange() throws {
        let bus = EventBus()
        bus.register(EventTypeDescriptor("pool.query"))
        bus.register(EventTypeDescriptor("disk.query"))
        let (alice, aliceBox) = Self.session()
        let (bob, bobBox) = Self.session()
        bus.publish(Event(name: "pool.query", kind: .changed, id: 1))
        // Subscribing after a publish (its route is cached) still gets the next event.
        let exact = try bus.subscribe(session: alice, name: "pool.query")
        bus.publish(Event(name: "pool.query", kind: .changed, id: 2))
        #expect(aliceBox.all == ["pool.query#2"])
        // A mask and an exact name of the same session: one delivery.
        let mask = try bus.subscribe(session: alice, name: "pool.*")
        _ = try bus.subscribe(session: bob, name: "*")
        bus.publish(Event(name: "pool.query", kind: .changed, id: 3))
        bus.publish(Event(name: "disk.query", kind: .changed, id: 4))
        #expect(aliceBox.all == ["pool.query#2", "pool.query#3"])
        #expect(bobBox.all == ["pool.query#3", "disk.query#4"])
        // Unsubscribing one of two matching subscriptions keeps the session; both, and it stops.
        #expect(bus.unsubscribe(session: alice, id: exact))
        bus.publish(Event(name: "pool.query", kind: .changed, id: 5))
        #expect(bus.unsubscribe(session: alice, id: mask))
        bus.publish(Event(name: "pool.query", kind: .changed, id: 6))
        #expect(aliceBox.all == ["pool.query#2", "pool.query#3", "pool.query#5"])
        // Another session's subscription id is not ours to remove.
        let bobsOwn = try bus.subscribe(session: bob, name: "disk.query")
        #expect(!bus.unsubscribe(session: alice, id: bobsOwn))
        // A closing connection loses all of its subscriptions at once.
        bus.unsubscribeAll(session: bob)
        bus.publish(Event(name: "disk.query", kind: .changed, id: 7))
        #expect(bobBox.all == ["pool.query#3", "disk.query#4", "pool.query#5", "pool.query#6"])
        #expect(!bus.isWatched("disk.query"))
    }

    @Test func handlersAndLateTypesAreSeenAtOnce() throws {
        let bus = EventBus()
        let seen = Mutex<[String]>([])
        bus.publish(Event(name: "late.thing", kind: .added, id: 1))
        #expect(!bus.isWatched("late.thing"))
        let token = bus.addHandler(mask: "late.*") { event in seen.withLock { $0.append("\(event.id)") } }
        #expect(bus.isWatched("late.thing"))
        bus.publish(Event(name: "late.thing", kind: .added, id: 2))
        bus.removeHandler(token)
        bus.publish(Event(name: "late.thing", kind: .added, id: 3))
        #expect(seen.withLock { $0 } == ["2"])
        // A session whose roles a type admits only once the type is registered: the cached route learns it.
        let (reader, box) = Self.session(["READONLY_ADMIN"])
        _ = try bus.subscribe(session: reader, name: "late.*")
        bus.publish(Event(name: "late.thing", kind: .added, id: 4))
        #expect(box.all.isEmpty, "an event of no declared type is for FULL_ADMIN only")
        bus.register(EventTypeDescriptor("late.thing", roles: ["READONLY_ADMIN"]))
        bus.publish(Event(name: "late.thing", kind: .added, id: 5))
        #expect(box.all == ["late.thing#5"])
    }

    @Test func fullAdminIsKeptInStepWithTheRoles() {
        var credentials = Credentials(username: "a", roles: ["READONLY_ADMIN"], mechanism: .passwordPlain)
        #expect(!credentials.isFullAdmin && !credentials.allows(anyOf: []))
        credentials.roles.insert(Role.fullAdmin)
        #expect(credentials.isFullAdmin && credentials.allows(anyOf: []))
        credentials.roles = []
        #expect(!credentials.isFullAdmin && !credentials.allows(anyOf: ["READONLY_ADMIN"]))
    }

    @Test func ownedEventsReachOnlyTheirOwnerOrFullAdmin() throws {
        let bus = EventBus()
        bus.register(EventTypeDescriptor("core.get_jobs", roles: ["READONLY_ADMIN"]))
        let (alice, aliceBox) = Self.session(["READONLY_ADMIN"], owner: "alice")
        let (carol, carolBox) = Self.session(["READONLY_ADMIN"], owner: "carol")
        let (root, rootBox) = Self.session()
        for session in [alice, carol, root] { _ = try bus.subscribe(session: session, name: "core.get_jobs") }
        bus.publish(Event(name: "core.get_jobs", kind: .changed, id: 1, owner: "alice"))
        #expect(aliceBox.all == ["core.get_jobs#1"] && carolBox.all.isEmpty && rootBox.all == ["core.get_jobs#1"])
        // A session that logged out receives nothing, though still subscribed.
        alice.credentials = nil
        bus.publish(Event(name: "core.get_jobs", kind: .changed, id: 2, owner: "alice"))
        #expect(aliceBox.all == ["core.get_jobs#1"])
    }

    /// A source that emits one event carrying its argument as id, then waits until it is stopped.
    static func echoSource(_ name: String) -> EventSourceDescriptor {
        EventSourceDescriptor(name, roles: ["READONLY_ADMIN"]) { argument, emit in
            emit(.changed, argument, [:])
            try await Task.sleep(for: .seconds(3_600))
        }
    }

    static func waitUntil(_ condition: () -> Bool) async throws {
        // Bounded only so that a broken bus fails the test instead of hanging it; the state is what is awaited.
        for _ in 0..<6_000 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
        #expect(condition())
    }

    /// Event-source events take the bus's one path: masks and handlers receive them, and a subscriber of one
    /// argument receives only its own producer's events.
    @Test func sourceEventsArePublishedOnTheBus() async throws {
        let bus = EventBus()
        bus.register(Self.echoSource("stats"))
        let handled = Mutex<[String]>([])
        bus.addHandler(mask: "stats") { event in handled.withLock { $0.append("\(event.id)") } }
        let (all, allBox) = Self.session()
        let (one, oneBox) = Self.session(["READONLY_ADMIN"])
        let (two, twoBox) = Self.session(["READONLY_ADMIN"])
        _ = try bus.subscribe(session: all, name: "*")
        _ = try bus.subscribe(session: one, name: "stats:1")
        _ = try bus.subscribe(session: two, name: "stats:2")
        try await Self.waitUntil { allBox.all.count == 2 }
        // Each publish delivers to all its receivers at once: once `*` has both, the others have theirs.
        #expect(Set(allBox.all) == ["stats#1", "stats#2"])
        #expect(oneBox.all == ["stats#1"] && twoBox.all == ["stats#2"])
        #expect(Set(handled.withLock { $0 }) == ["1", "2"])
        #expect(bus.runningSources == 2)
    }

    /// Withdrawing an event source stops its producers and ends each subscription naming it, once per
    /// session; masks stay.
    @Test func withdrawingASourceEndsItsSubscriptions() async throws {
        let bus = EventBus()
        bus.register(Self.echoSource("stats"))
        let (all, allBox) = Self.session()
        let (one, oneBox) = Self.session(["READONLY_ADMIN"])
        _ = try bus.subscribe(session: all, name: "*")
        _ = try bus.subscribe(session: one, name: "stats:1")
        _ = try bus.subscribe(session: one, name: "stats:2")
        try await Self.waitUntil { allBox.all.count == 2 }
        bus.unregister(event: "stats", reason: "plugin 'x' was unloaded")
        #expect(oneBox.all.filter { $0.hasPrefix("end:") } == ["end:stats:plugin 'x' was unloaded"])
        #expect(!allBox.all.contains { $0.hasPrefix("end:") })
        try await Self.waitUntil { bus.runningSources == 0 }
        #expect(throws: CallError.self) { try bus.subscribe(session: one, name: "stats") }
        // The mask still works for what remains.
        bus.register(EventTypeDescriptor("other"))
        bus.publish(Event(name: "other", kind: .added, id: 9))
        #expect(allBox.all.last == "other#9")
    }
}
