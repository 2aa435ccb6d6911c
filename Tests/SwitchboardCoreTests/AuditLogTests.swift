import Logging
import Testing
@testable import SwitchboardCore

/// The audit writer's bounded queue: while the datastore stalls, records beyond `maxPending` are counted and
/// dropped, and one `AUDIT_OVERFLOW` record says how many once it answers again (docs/security.md).
@Suite struct AuditLogTests {
    @Test func aStalledDatastoreDropsBeyondTheQueueAndSaysHowMany() async throws {
        let store = RecordingDatastore()
        var limits = AuditLog.Limits()
        limits.maxPending = 10
        let audit = AuditLog(datastore: store, limits: limits, logger: Logger(label: "audit-test"))
        store.gateOpen.withLock { $0 = false }
        let writer = Task { await audit.run() }
        audit.record(AuditSummariesTests.record("root", at: 1, method: "first", privileged: true))
        // The writer is inside its commit, which waits on the gate: everything after queues or is dropped.
        try await waitUntil("the first commit has started") { store.started.withLock { $0 } == 1 }
        for n in 0..<25 { audit.record(AuditSummariesTests.record("root", at: 2 + Int64(n), method: "call\(n)", privileged: true)) }
        store.gateOpen.withLock { $0 = true }
        await audit.flush()
        audit.finish()
        await writer.value

        let rows = store.commits.withLock { $0 }.flatMap(\.upserts)
        #expect(rows.map { $0["method"]?.stringValue ?? "" } == ["first", ""] + (0..<10).map { "call\($0)" }, "the first ten queued are kept")
        let overflow = try #require(rows.dropFirst().first)
        #expect(overflow["event"] == "AUDIT_OVERFLOW")
        #expect(overflow["arguments"] == ["dropped": 15])
        #expect(overflow["error"] == "15 audit records were dropped: the datastore did not keep up")
        #expect(overflow["success"] == false)
        #expect(rows.map { $0["id"]?.intValue ?? 0 } == Array(1...12), "ids stay consecutive across the overflow record")
    }
}

/// Polls `condition` (a state another task reaches) for 10 s at most.
func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
    for _ in 0..<10_000 where !condition() { try await Task.sleep(for: .milliseconds(1)) }
    #expect(condition(), "never: \(what)")
}
