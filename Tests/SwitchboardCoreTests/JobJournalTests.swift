import Foundation
import Logging
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
    func commit(_ table: TableDefinition, upserts: [JSONObject], rows: [[JSON]], deletes: [Int64]) async throws {
        let upserts = upserts + rows.map(table.object)
        // Long enough that callers pile up behind the transaction being written.
        started.withLock { $0 += 1 }
        try await Task.sleep(for: .milliseconds(5))
        while !gateOpen.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(1)) }
        if failing.withLock({ $0 }) { throw CallError(Errno.EIO, "disk on fire") }
        commits.withLock { $0.append(Commit(upserts: upserts, deletes: deletes)) }
    }
    func ping() async throws {}
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

    @Test func aStagedRowIsWrittenWithoutAWaiterAndALaterWriteSupersedesIt() async throws {
        let store = RecordingDatastore()
        let journal = JobJournal(datastore: store, table: JobRecord.table)
        // Alone, a staged row still reaches the datastore.
        journal.stage(1, ["id": 1, "state": "RUNNING"])
        for _ in 0..<500 where store.commits.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(2)) }
        #expect(store.commits.withLock { $0.flatMap(\.upserts) } == [["id": 1, "state": "RUNNING"]])
        // Behind a transaction in flight, a staged row and the awaited final row of the same job collapse to the final one.
        store.gateOpen.withLock { $0 = false }
        journal.stage(9, ["id": 9, "state": "WAITING"])
        while store.started.withLock({ $0 }) < 2 { try await Task.sleep(for: .milliseconds(1)) }
        journal.stage(2, ["id": 2, "state": "RUNNING"])
        async let final: Void = journal.write(2, ["id": 2, "state": "SUCCESS"])
        while journal.pendingChanges < 1 { try await Task.sleep(for: .milliseconds(1)) }
        store.gateOpen.withLock { $0 = true }
        try await final
        let rowsOfTwo = store.commits.withLock { $0.flatMap(\.upserts) }.filter { $0["id"] == 2 }
        #expect(rowsOfTwo == [["id": 2, "state": "SUCCESS"]])
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

    @Test func aJobsPositionalRowMatchesTheTableAndReadsBack() throws {
        var record = JobRecord(id: 42, node: "nas1", method: "pool.scrub", arguments: ["tank", 3], messageIDs: [7], owner: "alice",
                               description: "scrub tank", abortable: true, transient: false, lock: "scrub")
        record.state = .failed
        record.percent = 40
        record.progressDescription = "halfway"
        record.progressExtra = ["disk": "ada0"]
        record.error = "disk gone"
        record.errno = Errno.EIO
        record.errorExtra = ["at": 12]
        record.exception = "CallError: [EIO] disk gone"
        record.logsPath = "/var/db/switchboard/jobs/42.log"
        record.logsExcerpt = "line"
        record.timeFinished = record.timeStarted + 5
        #expect(record.columns.count == JobRecord.table.columns.count + 1)
        let row = JobRecord.table.object(record.columns)
        let back = try #require(JobRecord(row: row))
        #expect(back.json == record.json)
        #expect(row["lock"] == "scrub" && row["owner"] == "alice" && row["node"] == "nas1" && row["errno"] == .int(Int64(Errno.EIO)))
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

/// The job manager over a datastore that can be made to fail: an outcome is never reported unless stored.
@Suite struct JobDurabilityTests {
    @Test func anOutcomeThatCannotBeStoredIsReportedAsAFailure() async throws {
        let store = RecordingDatastore()
        let runtime = Runtime(datastore: store, stateDirectory: FileManager.default.temporaryDirectory.path, logger: Logger(label: "test"))
        try await runtime.jobs.start()
        let context = CallContext(session: Session.makeInternal(), runtime: runtime, method: "test.job", logger: runtime.logger)
        for idReturned in [true, false] {
            let id = try await runtime.jobs.submit(method: "test.job", arguments: [], options: JobOptions(), context: context,
                                                   idReturned: idReturned) { _, _ in
                store.failing.withLock { $0 = true }
                return "done"
            }
            let record = try await runtime.jobs.wait(id)
            #expect(record.state == .failed && record.errno == Errno.EIO, "idReturned \(idReturned): \(record.state)")
            #expect(record.callError?.errno == Errno.EIO)
            store.failing.withLock { $0 = false }
        }
        // A job whose outcome is stored reports it, and then it is in a commit.
        let id = try await runtime.jobs.submit(method: "test.job", arguments: [], options: JobOptions(), context: context, idReturned: false) { _, _ in "ok" }
        #expect(try await runtime.jobs.wait(id).state == .success)
        #expect(store.commits.withLock { $0.flatMap(\.upserts) }.contains { $0["id"]?.intValue == id && $0["state"] == "SUCCESS" })
    }
}
