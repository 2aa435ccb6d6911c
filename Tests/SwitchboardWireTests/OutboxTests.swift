import Testing
@testable import SwitchboardCore
@testable import SwitchboardWire

/// Each dialect's outbox, fed events and stream ends, read back from its queue.
@Suite struct OutboxTests {
    static func queue() -> OutboundQueue { OutboundQueue(waker: { _ in }) }

    static func drained(_ queue: OutboundQueue) -> [JSON] { queue.take().compactMap { try? JSON.parse(bytes: $0) } }

    static func deliver(_ event: Event, to outbox: any EventOutbox) {
        let frames = EncodedFrames()
        outbox.deliver(event, frames: frames)
        frames.wakes.flush()
    }

    @Test func jsonRPCSendsCollectionUpdatesAndNotifyUnsubscribed() {
        let queue = Self.queue()
        let outbox = JSONRPCOutbox(queue: queue)
        Self.deliver(Event(name: "user.query", kind: .added, id: 1, fields: ["username": "a"]), to: outbox)
        outbox.unsubscribed(name: "user.query", error: CallError(Errno.ENOENT, "gone"))
        let frames = Self.drained(queue)
        #expect(frames.first?["method"] == "collection_update" && frames.first?["params"]?["msg"] == "added")
        #expect(frames.last?["method"] == "notify_unsubscribed" && frames.last?["params"]?["collection"] == "user.query")
        #expect(frames.last?["params"]?["error"]?["reason"] == "gone")
    }

    @Test func ddpSendsAddedFirstAndNosubForEachSubOfTheEndedName() {
        let queue = Self.queue()
        let documents = DDPDocuments()
        documents.addSub("s1", bus: "b1", name: "user.query")
        documents.addSub("s2", bus: "b2", name: "user.query")
        documents.addSub("s3", bus: "b3", name: "other")
        let outbox = DDPOutbox(queue: queue, documents: documents)
        // A `changed` for a document the client never saw is its `added`; a `removed` of one it never held is dropped.
        Self.deliver(Event(name: "user.query", kind: .removed, id: 9), to: outbox)
        Self.deliver(Event(name: "user.query", kind: .changed, id: 1, fields: ["n": 1]), to: outbox)
        Self.deliver(Event(name: "user.query", kind: .changed, id: 1, fields: ["n": 2]), to: outbox)
        #expect(Self.drained(queue).map { $0["msg"] } == ["added", "changed"])
        outbox.unsubscribed(name: "user.query", error: nil)
        let ends = Self.drained(queue)
        #expect(Set(ends.compactMap { $0["id"]?.stringValue }) == ["s1", "s2"] && ends.allSatisfy { $0["msg"] == "nosub" })
        #expect(documents.hasSub("s3") && !documents.hasSub("s1"))
    }

    @Test func envelopeTellsTheEndAndForgetsTheNameSoItCanBeSubscribedAgain() {
        let queue = Self.queue()
        let subscriptions = EnvelopeConnectionState()
        subscriptions.add("stats", bus: "b1")
        subscriptions.add(#"stats:{"interval":1}"#, bus: "b2")
        subscriptions.add("stats.*", bus: "b3")
        let outbox = EnvelopeOutbox(queue: queue, state: subscriptions)
        Self.deliver(Event(name: "stats", kind: .changed, id: 1, fields: [:]), to: outbox)
        outbox.unsubscribed(name: "stats", error: nil)
        let frames = Self.drained(queue)
        #expect(frames.first?["namespace"] == "events" && frames.first?["name"] == "stats")
        #expect(frames.last == ["namespace": "events", "name": "unsubscribed", "id": "", "args": ["name": "stats"]])
        #expect(subscriptions.bus("stats") == nil && subscriptions.bus(#"stats:{"interval":1}"#) == nil)
        #expect(subscriptions.bus("stats.*") == "b3", "a mask names no stream and stays")
    }
}
