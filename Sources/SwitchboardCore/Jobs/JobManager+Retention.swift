import Foundation

/// Retention of finished jobs: by age, and by count per owner.
extension JobManager {

    /// Deletes finished jobs beyond the count of their owner or older than the age, oldest first; the newest job
    /// is always kept, since its id is where the next id continues. Works from the in-memory ledger of
    /// finished jobs, so a pass costs the deletes only.
    ///
    /// The count is per owner (`retentionCount` each): 3,000 no-op jobs of one user used to delete every other
    /// user's jobs and logs. When the count drops jobs younger than the age limit, the history covers less
    /// time than configured, and an alert says so.
    func prune() async throws {
        let cutoff = JobRecord.now() - Int64(limits.retentionAge.components.seconds * 1000)
        let newest = ids.highest
        let (expired, early) = state.withLock { state -> ([FinishedJob], [String: Int]) in
            var excess: [String: Int] = [:]
            for job in state.finished { excess[job.owner, default: -limits.retentionCount] += 1 }
            var expired: [FinishedJob] = []
            var early: [String: Int] = [:]
            for job in state.finished where job.id != newest {
                if excess[job.owner, default: 0] > 0 {
                    excess[job.owner, default: 0] -= 1
                    expired.append(job)
                    if job.timeFinished >= cutoff { early[job.owner, default: 0] += 1 }
                } else if job.timeFinished < cutoff {
                    expired.append(job)
                }
            }
            return (expired, early)
        }
        if !early.isEmpty {
            alerts.raise("jobs.retention", "job history is dropping jobs younger than jobs.retention-days: a user passed jobs.retention-count",
                         details: ["owners": .object(JSONObject(uniqueKeysWithValues: early.sorted { $0.key < $1.key }.map { ($0.key, JSON.int(Int64($0.value))) })),
                                  "retention_count": .int(Int64(limits.retentionCount))])
        }
        guard !expired.isEmpty else { return }
        try await datastore.commit(JobRecord.table, upserts: [], deletes: expired.map(\.id))
        // Jobs that finished during the commit were appended meanwhile; only the deleted ones leave.
        let gone = Set(expired.map(\.id))
        state.withLock { $0.finished.removeAll { gone.contains($0.id) } }
        for job in expired {
            if let path = job.logsPath { try? FileManager.default.removeItem(atPath: path) }
        }
    }
}
