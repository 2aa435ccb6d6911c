import Synchronization
import Testing
@testable import SwitchboardCore

/// Records what the queue woke its writer for.
final class WakeLog: Sendable {
    private let wakes = Mutex<[OutboundQueue.Wake]>([])
    func record(_ wake: OutboundQueue.Wake) { wakes.withLock { $0.append(wake) } }
    var all: [OutboundQueue.Wake] { wakes.withLock { $0 } }
}

/// An executor that counts its hops and runs the work at once.
final class CountingExecutor: OutboundExecutor {
    let hops = Mutex(0)
    var key: ObjectIdentifier { ObjectIdentifier(self) }
    func execute(_ work: @escaping @Sendable () -> Void) {
        hops.withLock { $0 += 1 }
        work()
    }
}

@Suite struct OutboundQueueTests {
    @Test func aPublishWakesTheQueuesOfOneExecutorInOneHop() {
        let loops = [CountingExecutor(), CountingExecutor()]
        let logs = (0..<10).map { _ in WakeLog() }
        let queues = logs.indices.map { index in
            OutboundQueue(executor: loops[index % 2]) { logs[index].record($0) }
        }
        let batch = WakeBatch()
        for queue in queues { #expect(queue.enqueue([1], deferringWakeTo: batch)) }
        #expect(logs.allSatisfy { $0.all.isEmpty }, "nothing is woken before the batch is flushed")
        // A second frame before the flush needs no wake of its own.
        #expect(queues[0].enqueue([2]))
        batch.flush()
        #expect(logs.allSatisfy { $0.all == [.frames] }, "every queue woken once")
        #expect(loops.map { $0.hops.withLock { $0 } } == [1, 1], "one hop per executor")
        #expect(queues[0].take() == [[1], [2]])
        // Without a batch (a reply), a queue with an executor wakes through it at once.
        #expect(queues[0].enqueue([3]))
        #expect(logs[0].all == [.frames, .frames] && loops[0].hops.withLock { $0 } == 2)
        // An overflow is never deferred.
        let tiny = OutboundQueue(limits: .init(maxMessages: 1, maxBytes: 1 << 20), executor: loops[1]) { logs[1].record($0) }
        let later = WakeBatch()
        #expect(tiny.enqueue([1], deferringWakeTo: later))
        #expect(!tiny.enqueue([2], deferringWakeTo: later))
        #expect(logs[1].all == [.frames, .overflowed])
        later.flush()
    }

    @Test func wakesOncePerIdleToBusyTransition() {
        let log = WakeLog()
        let queue = OutboundQueue { log.record($0) }
        #expect(queue.enqueue([1]))
        #expect(queue.enqueue([2]))
        #expect(queue.enqueue([3]))
        #expect(log.all == [.frames], "one wake for three frames queued before the writer ran")
        #expect(queue.take() == [[1], [2], [3]])
        #expect(queue.take() == [])
        #expect(queue.enqueue([4]))
        #expect(log.all == [.frames, .frames], "taking everything re-arms the wake")
    }

    @Test func takeRespectsTheByteBudgetAndKeepsOrder() {
        let log = WakeLog()
        let queue = OutboundQueue { log.record($0) }
        for n in 0..<10 { queue.enqueue([UInt8](repeating: UInt8(n), count: 100)) }
        let first = queue.take(maxBytes: 250)
        #expect(first.map { $0[0] } == [0, 1])
        #expect(queue.pending.messages == 8 && queue.pending.bytes == 800)
        // Frames remain, so no new wake is needed or sent.
        queue.enqueue([10])
        #expect(log.all == [.frames])
        // A frame larger than the budget still goes out alone.
        let big = OutboundQueue { _ in }
        big.enqueue([UInt8](repeating: 7, count: 1000))
        #expect(big.take(maxBytes: 10).count == 1)
        #expect(queue.take().map { $0[0] } == [2, 3, 4, 5, 6, 7, 8, 9, 10])
    }

    @Test func overflowByMessagesDropsEverythingAndWakesWithTheNews() {
        let log = WakeLog()
        let queue = OutboundQueue(limits: .init(maxMessages: 3, maxBytes: 1 << 20)) { log.record($0) }
        #expect(queue.enqueue([1]) && queue.enqueue([2]) && queue.enqueue([3]))
        #expect(!queue.enqueue([4]))
        #expect(queue.ending == .overflowed)
        #expect(log.all == [.frames, .overflowed])
        #expect(queue.take() == [], "nothing is written after an overflow")
        #expect(queue.pending.messages == 0 && queue.pending.bytes == 0, "the dropped frames are released")
        #expect(!queue.enqueue([5]))
        #expect(log.all == [.frames, .overflowed], "an ended queue wakes no one")
    }

    /// The daemon's counters see the overflow (one slow consumer, the frames it held and the one that did not
    /// fit) and each frame offered after the end.
    @Test func overflowsAndDropsAreCounted() {
        let counters = TrafficCounters()
        let queue = OutboundQueue(limits: .init(maxMessages: 3, maxBytes: 1 << 20), counters: counters) { _ in }
        #expect(queue.enqueue([1]) && queue.enqueue([2]) && queue.enqueue([3]))
        #expect(counters.slowConsumersClosed == 0 && counters.outboundDropped == 0)
        #expect(!queue.enqueue([4]))
        #expect(counters.slowConsumersClosed == 1 && counters.outboundDropped == 4)
        #expect(!queue.enqueue([5]))
        #expect(counters.slowConsumersClosed == 1 && counters.outboundDropped == 5)
        let finished = OutboundQueue(counters: counters) { _ in }
        finished.finish()
        #expect(!finished.enqueue([6]))
        #expect(counters.slowConsumersClosed == 1 && counters.outboundDropped == 6)
    }

    @Test func overflowByBytes() {
        let log = WakeLog()
        let queue = OutboundQueue(limits: .init(maxMessages: 100, maxBytes: 250)) { log.record($0) }
        #expect(queue.enqueue([UInt8](repeating: 0, count: 200)))
        #expect(queue.take().count == 1, "taken frames no longer count against the bound")
        #expect(queue.enqueue([UInt8](repeating: 0, count: 200)))
        #expect(!queue.enqueue([UInt8](repeating: 0, count: 51)))
        #expect(log.all.last == .overflowed)
    }

    @Test func finishKeepsQueuedFramesDropsLaterOnesAndReleasesTheWaker() {
        final class Writer: Sendable { let log = WakeLog() }
        weak var released: Writer?
        let queue: OutboundQueue
        do {
            let writer = Writer()
            released = writer
            queue = OutboundQueue { writer.log.record($0) }
        }
        #expect(released != nil, "the queue holds its writer while open")
        queue.enqueue([1])
        queue.finish()
        #expect(released == nil, "finishing lets go of the writer, breaking the writer-queue cycle")
        #expect(!queue.enqueue([2]))
        #expect(queue.take() == [[1]])
        #expect(queue.ending == .finished)
    }

    @Test func concurrentProducersLoseNothingBelowTheBound() async {
        let queue = OutboundQueue(limits: .init(maxMessages: 100_000, maxBytes: 1 << 30)) { _ in }
        await withTaskGroup(of: Void.self) { group in
            for producer in 0..<8 {
                group.addTask {
                    for n in 0..<1_000 { queue.enqueue([UInt8(producer), UInt8(n & 0xFF), UInt8(n >> 8)]) }
                }
            }
        }
        let frames = queue.take()
        #expect(frames.count == 8_000)
        for producer in 0..<8 {
            let mine = frames.filter { $0[0] == UInt8(producer) }.map { Int($0[1]) | Int($0[2]) << 8 }
            #expect(mine == Array(0..<1_000), "each producer's frames stay in its order")
        }
    }
}
