import Testing
@testable import SwitchboardCore

/// The per-caller quota of the audit trail: beyond it, records are counted by kind into one summary.
@Suite struct AuditSummariesTests {
    static func record(_ caller: String?, at time: Int64, method: String = "user.delete", success: Bool = false,
                       privileged: Bool = false) -> AuditRecord {
        var record = AuditRecord(event: "METHOD_CALL", timeMillis: time, session: "s", username: caller, address: "192.0.2.7:4000",
                                 dialect: "jsonrpc", method: method, arguments: [], success: success)
        record.caller = caller
        record.privileged = privileged
        return record
    }

    @Test func aFloodBecomesOneSummaryPerCallerAndInterval() {
        var summaries = AuditSummaries(limit: 3, intervalMillis: 60_000)
        var out: [AuditRecord] = []
        var admitted = 0
        for i in 0..<10 where summaries.admit(Self.record("nobody", at: 1_000 + Int64(i), method: i < 8 ? "user.delete" : "user.create"), into: &out) {
            admitted += 1
        }
        #expect(admitted == 3 && out.isEmpty)
        // Another caller, and FULL_ADMIN's records, are not affected.
        #expect(summaries.admit(Self.record("alice", at: 1_020), into: &out))
        for i in 0..<10 { #expect(summaries.admit(Self.record("root", at: 1_030 + Int64(i), privileged: true), into: &out)) }
        // The interval ends: the next record of the caller brings the summary, and counts afresh.
        #expect(summaries.admit(Self.record("nobody", at: 61_001), into: &out))
        let summary = out.first
        #expect(out.count == 1)
        #expect(summary?.event == "AUDIT_SUMMARY" && summary?.username == "nobody" && summary?.address == "192.0.2.7")
        #expect(summary?.arguments["suppressed"] == 7)
        #expect(summary?.arguments["from_ms"] == 1_000 && summary?.arguments["to_ms"] == 1_009)
        #expect(summary?.arguments["kinds"] == ["METHOD_CALL user.delete failed": 5, "METHOD_CALL user.create failed": 2])
        #expect(summary?.success == false && summary?.privileged == false)
    }

    @Test func drainingSummarisesEndedIntervalsAndOnDemandTheCurrentOnes() {
        var summaries = AuditSummaries(limit: 1, intervalMillis: 60_000)
        var out: [AuditRecord] = []
        for i in 0..<5 { _ = summaries.admit(Self.record(nil, at: 1_000 + Int64(i)), into: &out) }
        #expect(summaries.drain(now: 2_000).isEmpty, "the interval is still running")
        let now = summaries.drain(now: 2_000, force: true)
        #expect(now.count == 1 && now[0].arguments["suppressed"] == 4 && now[0].username == nil && now[0].address == "192.0.2.7")
        // Counting goes on within the interval: the next record is over the quota again, and summarised later.
        #expect(!summaries.admit(Self.record(nil, at: 3_000), into: &out))
        let later = summaries.drain(now: 70_000)
        #expect(later.count == 1 && later[0].arguments["suppressed"] == 1)
        #expect(summaries.callers.isEmpty)
    }

    @Test func manyCallersStayWithinTheBound() {
        var summaries = AuditSummaries(limit: 1, intervalMillis: 60_000)
        summaries.maxTracked = 100
        var out: [AuditRecord] = []
        for i in 0..<1_000 {
            _ = summaries.admit(Self.record("user\(i % 300)", at: 1_000 + Int64(i)), into: &out)
            #expect(summaries.callers.count <= 101)
        }
    }
}
