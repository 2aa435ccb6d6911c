import Foundation
import Logging
import Synchronization
import SwitchboardTestSupport
import Testing
@testable import SwitchboardCore

/// The job manager's state machine under races: aborts landing in every state (waiting for a lock, granted a
/// turn but not started, running, ending), with a tiny global limit so that most jobs queue.
@Suite struct JobManagerTests {
    @Test func abortsRacingEveryStateLeaveEachJobEndedOnceWithItsEventsInOrder() async throws {
        let store = RecordingDatastore()
        let runtime = Runtime(datastore: store, stateDirectory: FileManager.default.temporaryDirectory.path,
                              logger: Logger(label: "test"), jobLimits: .init(maxRunning: 2))
        try await runtime.jobs.start()
        let states = Mutex<[Int64: [String]]>([:])
        runtime.events.addHandler(mask: JobManager.eventName) { event in
            guard let id = event.id.intValue, let state = event.fields["state"]?.stringValue else { return }
            states.withLock { $0[id, default: []].append(state) }
        }
        let context = CallContext(session: Session.makeInternal(), runtime: runtime, method: "test.job", logger: runtime.logger)
        let locked = JobOptions(lock: { args in args.first?.intValue.map { "lock\($0 % 3)" } }, abortable: true)
        var ids: [Int64] = []
        var lateAborts: [Int64: Task<Bool?, Never>] = [:]
        // Seeded, and the seed printed: a failing interleaving's inputs can be replayed (SWITCHBOARD_TEST_SEED).
        let seed = ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 1...UInt64.max)
        print("abortsRacingEveryState seed: \(seed) (SWITCHBOARD_TEST_SEED=\(seed) replays it)")
        var rng = SplitMix(seed: seed)
        let steps = (0..<120).map { _ in rng.next(4) }
        let delays = (0..<120).map { _ in rng.next(5) }
        for n in 0..<120 {
            let id = try await runtime.jobs.submit(method: "test.job", arguments: [.int(Int64(n))], options: locked, context: context) { _, args in
                // A job aborted at once runs until it is cancelled (10 s at most, so a lost abort fails the test
                // instead of hanging it): however late its abort is scheduled, the body cannot end first.
                let untilCancelled = (args.first?.intValue ?? 0) % 3 == 0
                for _ in 0..<(untilCancelled ? 10_000 : steps[Int(args.first?.intValue ?? 0)]) {
                    try Task.checkCancellation()
                    try await Task.sleep(for: .milliseconds(1))
                }
                return "done"
            }
            ids.append(id)
            // Abort some at once (waiting or just granted), others a little later (running or ending).
            if n % 3 == 0 {
                let tookEffect = try await runtime.jobs.abort(id, credentials: nil)
                #expect(tookEffect, "job \(id) was still waiting or running")
            }
            if n % 5 == 1 {
                let jobs = runtime.jobs
                let delay = delays[n]
                lateAborts[id] = Task {
                    try? await Task.sleep(for: .milliseconds(delay))
                    return try? await jobs.abort(id, credentials: nil)
                }
            }
        }
        // Waiting on a job that already ended reads the datastore, which this one does not keep: wait on the
        // live ones, then take every job's end from the last row committed for it.
        for id in ids { _ = try? await runtime.jobs.wait(id) }
        // Late aborts of ended jobs change nothing; let them land.
        var late: [Int64: Bool?] = [:]
        for (id, task) in lateAborts { late[id] = await task.value }
        #expect(runtime.jobs.runningCount == 0, "every slot given back")
        var ended: [Int64: JobState] = [:]
        for row in store.commits.withLock({ $0.flatMap(\.upserts) }) {
            if let id = row["id"]?.intValue, let state = row["state"]?.stringValue.flatMap(JobState.init(rawValue:)) { ended[id] = state }
        }
        for id in ids {
            let final = try #require(ended[id])
            #expect(final.isFinished)
            let seen = states.withLock { $0[id] ?? [] }
            #expect(seen.first == "WAITING", "job \(id): \(seen)")
            #expect(seen.last == final.rawValue, "job \(id) ended \(final) but its last event says \(seen)")
            #expect(seen.filter { JobState(rawValue: $0)?.isFinished == true }.count == 1, "job \(id) ended more than once: \(seen)")
            let order = seen.compactMap { ["WAITING": 0, "RUNNING": 1, "SUCCESS": 2, "FAILED": 2, "ABORTED": 2][$0] }
            #expect(order == order.sorted(), "job \(id) went back: \(seen)")
        }
        // Aborted at once: never SUCCESS.
        for (n, id) in ids.enumerated() where n % 3 == 0 { #expect(ended[id] == .aborted, "job \(id)") }
        // An abort that took effect ends its job ABORTED, even when the body returned in the meantime; one that
        // came too late (false, or an error once the ended job left the live table: this datastore keeps no
        // rows to answer from) leaves the job as it ended.
        #expect(late.count == ids.indices.filter { $0 % 5 == 1 }.count)
        for (n, id) in ids.enumerated() where n % 5 == 1 {
            guard let tookEffect = late[id] else { continue }
            if tookEffect == true {
                #expect(ended[id] == .aborted, "job \(id) accepted its abort")
            } else if n % 3 != 0 {
                #expect(ended[id] == .success, "job \(id) ended before its abort")
            }
        }
        #expect(ended.values.contains(.success), "some jobs ran to the end")
    }
}
