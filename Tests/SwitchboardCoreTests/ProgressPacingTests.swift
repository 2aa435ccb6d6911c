import Foundation
import Logging
import Synchronization
import Testing
@testable import SwitchboardCore

/// A job's progress reaches subscribers at most once per `progressInterval`, the latest report always arrives,
/// and nothing arrives after the final state (`ProgressPacer`).
@Suite struct ProgressPacingTests {
    /// One `core.get_jobs` event as a handler saw it, with when.
    struct Seen: Sendable {
        var at: ContinuousClock.Instant
        var state: String
        var percent: Int64?
    }

    final class Recorder: Sendable {
        let seen = Mutex<[Seen]>([])
        let stream: AsyncStream<Seen>
        let sink: AsyncStream<Seen>.Continuation

        init(_ events: EventBus) {
            (stream, sink) = AsyncStream<Seen>.makeStream()
            events.addHandler(mask: JobManager.eventName) { [self] event in
                let entry = Seen(at: .now, state: event.fields["state"]?.stringValue ?? "", percent: event.fields["progress"]?["percent"]?.intValue)
                seen.withLock { $0.append(entry) }
                sink.yield(entry)
            }
        }

        var progressEvents: Int { seen.withLock { $0.filter { $0.state == "RUNNING" && $0.percent != nil }.count } }

        /// Waits for an event that satisfies `match`; fails the test after 10 s.
        func next(where match: @escaping @Sendable (Seen) -> Bool) async throws -> Seen {
            let stream = self.stream
            return try await withThrowingTaskGroup(of: Seen?.self) { group in
                group.addTask {
                    for await entry in stream where match(entry) { return entry }
                    return nil
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(10))
                    return nil
                }
                defer { group.cancelAll() }
                guard let found = try await group.next(), let entry = found else { throw CancellationError() }
                return entry
            }
        }
    }

    static func runtime(interval: Duration) async throws -> Runtime {
        let runtime = Runtime(datastore: RecordingDatastore(), stateDirectory: FileManager.default.temporaryDirectory.path,
                              logger: Logger(label: "test"), jobLimits: .init(progressInterval: interval))
        try await runtime.jobs.start()
        return runtime
    }

    static func context(_ runtime: Runtime) -> CallContext {
        CallContext(session: Session.makeInternal(), runtime: runtime, method: "test.job", logger: runtime.logger)
    }

    @Test func aBurstIsPacedAndTheFinalStateComesLastWithEverything() async throws {
        let interval = Duration.milliseconds(100)
        let runtime = try await Self.runtime(interval: interval)
        let recorder = Recorder(runtime.events)
        let id = try await runtime.jobs.submit(method: "test.job", arguments: [], options: JobOptions(), context: Self.context(runtime)) { job, _ in
            // Reports as fast as it can until three paced events were sent (so the spacing below is checked on
            // several), then ends: a burst of thousands of reports.
            var step = 0
            while recorder.progressEvents < 3 {
                step += 1
                await job.setProgress(step % 100, "step \(step)")
                if step % 500 == 0 { try await Task.sleep(for: .milliseconds(1)) }
            }
            return true
        }
        let record = try await runtime.jobs.wait(id)
        #expect(record.state == .success)
        let seen = recorder.seen.withLock { $0 }
        #expect(seen.first?.state == "WAITING" && seen.last?.state == "SUCCESS")
        #expect(seen.last?.percent == 100)
        #expect(seen.filter { $0.state == "SUCCESS" }.count == 1 && seen.dropLast().allSatisfy { $0.state != "SUCCESS" },
                "nothing after the final state")
        let progress = seen.filter { $0.state == "RUNNING" && $0.percent != nil }
        #expect(progress.count >= 3)
        let first = try #require(progress.first), last = try #require(seen.last)
        #expect(progress.count <= Int((last.at - first.at) / interval) + 2, "at most one progress event per interval")
        // Sent under the pacer's lock and stamped there: the spacing is a property of the code, not a race.
        for (earlier, later) in zip(progress, progress.dropFirst()) {
            #expect(later.at - earlier.at >= interval, "two progress events within one interval: \(seen.map { ($0.state, $0.percent, $0.at) })")
        }
    }

    @Test func aHeldReportIsSentWhenTheIntervalIsUpWhileTheJobStillRuns() async throws {
        let runtime = try await Self.runtime(interval: .milliseconds(100))
        let recorder = Recorder(runtime.events)
        let (released, release) = AsyncStream<Void>.makeStream()
        let id = try await runtime.jobs.submit(method: "test.job", arguments: [], options: JobOptions(), context: Self.context(runtime)) { job, _ in
            await job.setProgress(10, "first")
            await job.setProgress(20, "second: held, then sent by the timer")
            for await _ in released { break }
            return true
        }
        let held = try await recorder.next { $0.percent == 20 }
        #expect(held.state == "RUNNING", "the latest report arrives before the job ends")
        release.yield()
        #expect(try await runtime.jobs.wait(id).state == .success)
    }

    @Test func withoutAnIntervalEveryReportIsSent() async throws {
        let runtime = try await Self.runtime(interval: .zero)
        let recorder = Recorder(runtime.events)
        let id = try await runtime.jobs.submit(method: "test.job", arguments: [], options: JobOptions(), context: Self.context(runtime)) { job, _ in
            for step in 1...50 { await job.setProgress(step, nil) }
            return true
        }
        _ = try await runtime.jobs.wait(id)
        let percents = recorder.seen.withLock { $0.filter { $0.state == "RUNNING" }.compactMap(\.percent) }
        #expect(percents == Array(1...50))
    }

    @Test func anAbortedJobKeepsTheProgressItReached() async throws {
        let runtime = try await Self.runtime(interval: .zero)
        let recorder = Recorder(runtime.events)
        let id = try await runtime.jobs.submit(method: "test.job", arguments: [], options: JobOptions(abortable: true),
                                               context: Self.context(runtime)) { job, _ in
            await job.setProgress(40, "working")
            do {
                try await Task.sleep(for: .seconds(30))
            } catch {
                // A body that reports the step it was cut off in as done (as a killed command's exit would).
                await job.setProgress(100, "done?")
                throw error
            }
            return true
        }
        _ = try await recorder.next { $0.percent == 40 }
        #expect(try await runtime.jobs.abort(id, credentials: nil))
        let record = try await runtime.jobs.wait(id)
        #expect(record.state == .aborted && record.percent == 40, "progress reported after the abort is ignored")
        #expect(recorder.seen.withLock { $0.allSatisfy { $0.percent != 100 } })
    }
}
