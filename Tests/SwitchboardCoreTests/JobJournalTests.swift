import Synchronization
import Testing
@testable import SwitchboardCore

/// A datastore that records each commit and can be made slow or failing.
final class RecordingDatastore: Datastore {
    struct Commit { var upserts: [JSONObject]; var deletes: [Int64] }
    let commits = Mutex<[Commit]>([])
    let failing = Mutex(false)
    /// While closed, commits wait: a test can pile changes up behind one in flight.
    let gateOpen = Mutex(true)
    let started = Mutex(0)

    func prepare(_ table: TableDefinition) async throws {}
    func query(_ table: TableDefinition, filters: [QueryFilter], options: QueryOptions) async throws -> JSON { [] }
    func get(_ table: TableDefinition, id: Int64) async throws -> JSONObject? { nil }
    func insert(_ table: TableDefinition, _ row: JSONObject) async throws -> Int64 { 0 }
    func update(_ table: TableDefinition, id: Int64, _ changes: JSONObject) async throws -> Bool { false }
    func delete(_ table: TableDefinition, id: Int64) async throws -> Bool { false }
    func commit(_ table: TableDefinition, upserts: [JSONObject], deletes: [Int64]) async throws {
        // Long enough that callers pile up behind the transaction being written.
        started.withLock { $0 += 1 }
        try await Task.sleep(for: .milliseconds(5))
        while !gateOpen.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(1)) }
        if failing.withLock({ $0 }) { throw CallError(Errno.EIO, "disk on fire") }
        commits.withLock { $0.append(Commit(upserts: upserts, deletes: deletes)) }
    }
    func close() async throws {}
}

@Suite struct JobJournalTests {
    @Test func concurrentWritesShareTransactionsAndReturnOnlyOnceCommitted() async throws {
        let store = RecordingDatastore()
        let journal = JobJournal(datastore: store, table: JobRecord.table)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in 1...500 {
                group.addTask {
                    try await journal.write(Int64(id), ["id": .int(Int64(id)), "state": "WAITING"])
                    // Returned: so the row must already be in a recorded commit.
                    let stored = store.commits.withLock { $0.contains { $0.upserts.contains { $0["id"]?.intValue == Int64(id) } } }
                    #expect(stored, "job \(id) returned before its commit")
                }
            }
            try await group.waitForAll()
        }
        let commits = store.commits.withLock { $0 }
        #expect(commits.reduce(0) { $0 + $1.upserts.count } == 500)
        #expect(commits.count < 100, "\(commits.count) transactions for 500 writes")
    }

    @Test func oneJobsChangesLandInTheOrderTheyWereMade() async throws {
        // JobManager awaits each change of a job before making the next, as here.
        let store = RecordingDatastore()
        let journal = JobJournal(datastore: store, table: JobRecord.table)
        for state in ["WAITING", "RUNNING", "SUCCESS"] { try await journal.write(7, ["id": 7, "state": .string(state)]) }
        let states = store.commits.withLock { $0 }.flatMap { $0.upserts.compactMap { $0["state"]?.stringValue } }
        #expect(states == ["WAITING", "RUNNING", "SUCCESS"])
    }

    @Test func changesToOneRowInOneBatchCollapse() async throws {
        let store = RecordingDatastore()
        let journal = JobJournal(datastore: store, table: JobRecord.table)
        // The first write's transaction is held open until the rest have arrived; they share the next one.
        store.gateOpen.withLock { $0 = false }
        async let first: Void = journal.write(1, ["id": 1])
        while store.started.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(1)) }
        async let a: Void = journal.write(7, ["id": 7, "state": "RUNNING"])
        async let b: Void = journal.write(7, ["id": 7, "state": "SUCCESS"])
        async let gone: Void = journal.delete(8)
        while journal.pendingChanges < 3 { try await Task.sleep(for: .milliseconds(1)) }
        store.gateOpen.withLock { $0 = true }
        _ = try await (first, a, b, gone)
        let commits = store.commits.withLock { $0 }
        #expect(commits.count == 2, "\(commits.count) transactions")
        let last = try #require(commits.last)
        #expect(last.upserts.filter { $0["id"]?.intValue == 7 }.count == 1, "one row per job per transaction")
        #expect(last.deletes == [8])
    }

    @Test func aFailedCommitFailsEveryCallerInItAndTheNextBatchStillRuns() async throws {
        let store = RecordingDatastore()
        let journal = JobJournal(datastore: store, table: JobRecord.table)
        store.failing.withLock { $0 = true }
        await #expect(throws: CallError.self) { try await journal.write(1, ["id": 1]) }
        store.failing.withLock { $0 = false }
        try await journal.write(2, ["id": 2])
        #expect(store.commits.withLock { $0.count } == 1)
    }
}
