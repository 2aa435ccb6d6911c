import DequeModule
import Foundation

/// Start (failing what a dead daemon left unfinished, learning the ledger) and shutdown (the grace period).
extension JobManager {
    /// Prepares the table, fails the jobs this node's last run left WAITING or RUNNING, and applies retention.
    ///
    /// In a cluster each node answers for the jobs it ran (`node`): it fails only its own unfinished jobs (another
    /// node's may be running now) and prunes only its own finished ones. Rows from before nodes had names
    /// (`node` unset) were run by the one daemon the datastore then served, and are taken as this node's.
    public func start() async throws {
        try await datastore.prepare(JobRecord.table)
        let nodeName = nodeName
        let isOwn = { (row: JSON) -> Bool in row["node"]?.stringValue.map { $0 == nodeName } ?? true }
        let unfinished = JSON.array((try await datastore.query(
            JobRecord.table, filters: [.condition(QueryCondition(field: QueryPath("state"), op: .in,
                                                                   value: [.string("WAITING"), .string("RUNNING")]))],
            options: QueryOptions()).arrayValue ?? []).filter(isOwn))
        for row in unfinished.arrayValue ?? [] {
            guard let id = row["id"]?.intValue else { continue }
            var changes: JSONObject = [
                "state": "FAILED", "error": .string(Self.interruptedReason), "errno": .int(Int64(Errno.EINTR)),
                "time_finished": .int(JobRecord.now()),
            ]
            if row["node"]?.stringValue == nil { changes["node"] = .string(nodeName) }
            _ = try await datastore.update(JobRecord.table, id: id, changes)
        }
        if !(unfinished.arrayValue ?? []).isEmpty {
            logger.notice("jobs interrupted by the last stop marked FAILED", metadata: ["count": .stringConvertible(unfinished.arrayValue?.count ?? 0)])
        }
        // Rows in no state the daemon knows (written by hand, or by a future version) are never listed, failed or
        // pruned: say so once, by id, so an operator can see why `core.get_jobs` leaves them out.
        let unreadable = try await datastore.query(
            JobRecord.table, filters: [.condition(QueryCondition(field: QueryPath("state"), op: .notIn,
                                                                   value: .array(JobState.allCases.map { .string($0.rawValue) })))],
            options: QueryOptions())
        if let rows = unreadable.arrayValue, !rows.isEmpty {
            let ids = rows.compactMap { $0["id"]?.intValue }.map(String.init).joined(separator: ", ")
            logger.warning("job rows the daemon cannot read (no known state); left as they are", metadata: ["ids": .string(ids)])
        }
        var newest = QueryOptions()
        newest.orderBy = [QueryOptions.Order(field: QueryPath("id"), descending: true, nullsFirst: nil)]
        newest.limit = 1
        let nextID = (try await datastore.query(JobRecord.table, filters: [], options: newest))[0]?["id"]?.intValue ?? 0
        let stored = JSON.array((try await datastore.query(
            JobRecord.table, filters: [.condition(QueryCondition(field: QueryPath("state"), op: .in, value: ["SUCCESS", "FAILED", "ABORTED"]))],
            options: QueryOptions()).arrayValue ?? []).filter(isOwn))
        for row in stored.arrayValue ?? [] where row["node"]?.stringValue == nil {
            guard let id = row["id"]?.intValue else { continue }
            _ = try await datastore.update(JobRecord.table, id: id, ["node": .string(nodeName)])
        }
        let finished = Deque((stored.arrayValue ?? []).compactMap { row -> FinishedJob? in
            guard let id = row["id"]?.intValue else { return nil }
            return FinishedJob(id: id, owner: row["owner"]?.stringValue ?? "", timeFinished: row["time_finished"]?.intValue ?? 0,
                               logsPath: row["logs_path"]?.stringValue)
        })
        ids.start(above: nextID)
        state.withLock { $0.finished = finished }
        try await prune()
    }

    /// Lets running jobs finish within the grace period, then aborts the rest and records them as interrupted.
    public func shutdown() async {
        let turns = state.withLock { state -> [Turn] in
            state.stopping = true
            // Jobs past their local turn but waiting for a cluster lease end ABORTED too.
            for (id, job) in state.live where job.record.state == .waiting { state.live[id]?.abortRequested = true }
            var turns: [Turn] = []
            for waiter in state.waiting {
                state.live[waiter.id]?.abortRequested = true
                if let turn = waiter.turn { turns.append(turn) }
            }
            state.waiting.removeAll()
            return turns
        }
        for turn in turns { turn.resume(returning: false) }
        let deadline = ContinuousClock.now + limits.shutdownGrace
        while state.withLock({ $0.live.values.contains { $0.record.state == .running } }) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let runners = state.withLock { $0.live.values.filter { $0.record.state == .running }.compactMap(\.runner) }
        for runner in runners { runner.cancel() }
        let settle = ContinuousClock.now + .seconds(2)
        while !state.withLock({ $0.live.isEmpty }) && ContinuousClock.now < settle {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
