import Testing
@testable import SwitchboardCore

/// A lagging connection merges `changed` events of one document (`PendingChanges`): what the client ends up with
/// is what it would have with every event, and only a client that stops reading reaches the bound.
@Suite struct OutboundQueueMergeTests {
    /// A frame that says which event it is, as a dialect's encoding would: "name/id/kind/fields".
    static func encode(_ event: Event) -> [UInt8] {
        Array("\(event.name)/\(event.id.encodedString())/\(event.kind.rawValue)/\(event.fields.encodedString())".utf8)
    }

    static func changed(_ id: Int64, _ fields: JSON, name: String = "job") -> Event {
        Event(name: name, kind: .changed, id: .int(id), fields: fields)
    }

    @discardableResult
    static func enqueue(_ queue: OutboundQueue, _ event: Event) -> Bool {
        queue.enqueue(encode(event), event: event, mergeable: event.kind == .changed, deferringWakeTo: nil, encode: encode)
    }

    static func text(_ frames: [[UInt8]]) -> [String] { frames.map { String(decoding: $0, as: UTF8.self) } }

    /// Fills the queue with unrelated frames up to the point where it counts as lagging.
    static func fillToThreshold(_ queue: OutboundQueue) {
        for n in 0..<queue.mergeThreshold { queue.enqueue(Array("filler \(n)".utf8)) }
    }

    @Test func aConnectionThatKeepsUpGetsEveryEvent() {
        let queue = OutboundQueue { _ in }
        for step in Int64(1)...10 { Self.enqueue(queue, Self.changed(1, ["percent": .int(step)])) }
        #expect(queue.pending.messages == 10, "below the threshold nothing is merged")
        #expect(Self.text(queue.take()).last == #"job/1/changed/{"percent":10}"#)
    }

    @Test func aLaggingConnectionKeepsOneChangedPerDocumentAtTheNewestPlace() {
        let queue = OutboundQueue { _ in }
        Self.fillToThreshold(queue)
        Self.enqueue(queue, Self.changed(1, ["percent": 1, "state": "RUNNING"]))
        Self.enqueue(queue, Self.changed(2, ["n": 1], name: "other"))
        for step in 2...5_000 { Self.enqueue(queue, Self.changed(1, ["percent": .int(Int64(step)), "state": "RUNNING"])) }
        Self.enqueue(queue, Self.changed(1, ["percent": 100, "state": "SUCCESS"]))
        #expect(queue.pending.messages == queue.mergeThreshold + 2)
        #expect(queue.slots <= queue.mergeThreshold + 2 + OutboundQueue.Limits().maxMessages / 2 + 1,
                "superseded slots are compacted")
        let frames = Self.text(queue.take()).dropFirst(queue.mergeThreshold)
        // The merged change goes where the newest one was queued: after `other`, which came before it.
        #expect(Array(frames) == [#"other/2/changed/{"n":1}"#, #"job/1/changed/{"percent":100,"state":"SUCCESS"}"#])
        #expect(queue.pending.messages == 0 && queue.pending.bytes == 0)
    }

    @Test func fieldsOfSupersededChangesAreKeptUnlessALaterOneSetsThem() {
        let queue = OutboundQueue { _ in }
        Self.fillToThreshold(queue)
        Self.enqueue(queue, Self.changed(1, ["a": 1, "b": 1]))
        Self.enqueue(queue, Self.changed(1, ["b": 2, "c": 2]))
        Self.enqueue(queue, Self.changed(1, ["c": 3]))
        let frames = Self.text(queue.take()).dropFirst(queue.mergeThreshold)
        #expect(Array(frames) == [#"job/1/changed/{"c":3,"b":2,"a":1}"#], "the later value wins, none is lost")
    }

    @Test func addedAndRemovedAreNeverMergedAndEndTheMergingOfTheirDocument() {
        let queue = OutboundQueue { _ in }
        Self.fillToThreshold(queue)
        Self.enqueue(queue, Event(name: "job", kind: .added, id: 1, fields: ["a": 0]))
        Self.enqueue(queue, Self.changed(1, ["a": 1]))
        Self.enqueue(queue, Self.changed(1, ["a": 2]))
        Self.enqueue(queue, Event(name: "job", kind: .removed, id: 1))
        Self.enqueue(queue, Event(name: "job", kind: .added, id: 1, fields: ["b": 0]))
        Self.enqueue(queue, Self.changed(1, ["b": 1]))
        let frames = Self.text(queue.take()).dropFirst(queue.mergeThreshold)
        #expect(Array(frames) == [
            #"job/1/added/{"a":0}"#, #"job/1/changed/{"a":2}"#, "job/1/removed/null", #"job/1/added/{"b":0}"#,
            #"job/1/changed/{"b":1}"#,
        ], "a change never crosses a removal: the last one does not carry `a` back")
    }

    @Test func aChangeAlreadyTakenByTheWriterIsNotSuperseded() {
        let queue = OutboundQueue { _ in }
        Self.fillToThreshold(queue)
        Self.enqueue(queue, Self.changed(1, ["a": 1]))
        #expect(queue.take().count == queue.mergeThreshold + 1)
        Self.fillToThreshold(queue)
        Self.enqueue(queue, Self.changed(1, ["b": 2]))
        let frames = Self.text(queue.take()).dropFirst(queue.mergeThreshold)
        #expect(Array(frames) == [#"job/1/changed/{"b":2}"#], "the first one is on its way: nothing to merge into")
    }

    @Test func aStoppedReaderStillOverflowsWhenTheDocumentsAreMany() {
        let log = WakeLog()
        let queue = OutboundQueue(limits: .init(maxMessages: 200, maxBytes: 1 << 20)) { log.record($0) }
        var accepted = 0
        for id in 0..<1_000 where Self.enqueue(queue, Self.changed(Int64(id), ["n": 1])) { accepted += 1 }
        #expect(accepted == 200 && queue.ending == .overflowed && log.all.last == .overflowed)
    }

    @Test func aStoppedReaderWithAFewBusyDocumentsIsClosedAfterTheStallBound() {
        let log = WakeLog()
        let queue = OutboundQueue(limits: .init(maxMessages: 200, maxBytes: 1 << 20)) { log.record($0) }
        for id in 0..<100 { Self.enqueue(queue, Self.changed(Int64(id), ["n": 0])) }
        var accepted = 0
        for step in 1...100_000 where Self.enqueue(queue, Self.changed(Int64(1_000 + step % 3), ["n": .int(Int64(step))])) { accepted += 1 }
        // Three new documents, then one supersession per event up to the stall bound: the reader is gone.
        #expect(accepted == 3 + queue.stallBound && queue.ending == .overflowed && log.all.last == .overflowed)
    }

    @Test func aReaderThatTakesNowAndThenHoldsBoundedMemoryWhateverTheBurst() {
        let queue = OutboundQueue(limits: .init(maxMessages: 200, maxBytes: 1 << 20)) { _ in }
        for id in 0..<100 { Self.enqueue(queue, Self.changed(Int64(id), ["n": 0])) }
        var taken = 0
        for step in 1...100_000 {
            #expect(Self.enqueue(queue, Self.changed(Int64(1_000 + step % 3), ["n": .int(Int64(step))])))
            // The writer takes the oldest frame now and then: a slow reader, not a stopped one.
            if step % 1_000 == 0 { taken += queue.take(maxBytes: 1).count }
        }
        #expect(queue.ending == nil)
        #expect(queue.pending.messages + taken == 103, "one frame per busy document")
        #expect(queue.slots <= 103 + 200 / 2 + 1, "superseded slots never pile up")
        let frames = Self.text(queue.take())
        #expect(Array(frames.suffix(3)) == [#"job/1002/changed/{"n":99998}"#, #"job/1000/changed/{"n":99999}"#, #"job/1001/changed/{"n":100000}"#])
    }

    @Test func mergeReencodesOnlyWhenTheNewFieldsDoNotCoverTheOld() {
        let whole = PendingChanges.merge(Self.changed(1, ["a": 1, "b": 1]), Self.changed(1, ["b": 2, "a": 2]))
        #expect(!whole.reencode && whole.event.fields == ["a": 2, "b": 2])
        let partial = PendingChanges.merge(Self.changed(1, ["a": 1]), Self.changed(1, ["b": 2]))
        #expect(partial.reencode && partial.event.fields == ["a": 1, "b": 2])
        var withExtra = Self.changed(1, ["a": 1])
        withExtra.extra = ["why": "x"]
        let keptExtra = PendingChanges.merge(withExtra, Self.changed(1, ["a": 2]))
        #expect(keptExtra.reencode && keptExtra.event.extra == ["why": "x"])
        let notObjects = PendingChanges.merge(Self.changed(1, ["a": 1]), Self.changed(1, .null))
        #expect(!notObjects.reencode && notObjects.event.fields == .null, "without fields to merge, the latest wins")
    }
}
