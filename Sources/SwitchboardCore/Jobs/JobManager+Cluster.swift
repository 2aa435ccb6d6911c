import Foundation

/// Jobs in a cluster: each node runs its own, and the others wait on them, abort them and fail them when their
/// node dies. The job's row (`node`, `state`) is the truth every node reads; requests to the node that runs a
/// job travel as cluster events.
extension JobManager {
    /// What a node asks of the node that runs a job: fields `id` and `reason`. FULL_ADMIN only, for operators
    /// who watch the traffic between nodes.
    public static let abortRequestEventName = "core.job_abort_request"

    /// How often a wait on another node's job reads its row: its end is also announced by event, but a row read
    /// is what no lost notification can delay for long.
    static let remotePoll: Duration = .milliseconds(200)

    /// Registers the abort request's event type, takes the requests meant for this node's jobs, and from now on
    /// leases job locks through `locks` as well.
    public func joinCluster(locks: (any ClusterLocks)?) {
        clusterLocks.withLock { $0 = locks }
        events.register(EventTypeDescriptor(
            Self.abortRequestEventName,
            description: "A node asks the node running a job to abort it (core.job_abort on a job of another node). Fields: id, reason.",
            roles: []))
        events.addHandler(mask: Self.abortRequestEventName) { [self] event in
            guard let id = event.fields["id"]?.intValue, state.withLock({ $0.live[id] != nil }) else { return }
            let reason = event.fields["reason"]?.stringValue
            Task { _ = try? await self.abort(id, credentials: nil, reason: reason) }
        }
    }

    /// How often a job waiting for a lock another node holds asks again.
    static let leasePoll: Duration = .milliseconds(100)

    /// Waits until the cluster grants `lock` to job `id`: its fencing token, or nil when the job was aborted
    /// meanwhile (or the daemon is stopping). A datastore away is waited out, said once in the log.
    func takeLease(_ id: Int64, lock: String, locks: any ClusterLocks) async -> Int64? {
        var warned = false
        while state.withLock({ $0.live[id]?.abortRequested == false }) && !Task.isCancelled {
            do {
                if let token = try await locks.acquire(lock, job: id) { return token }
            } catch {
                if !warned {
                    logger.warning("job waits for its cluster lock: the lease cannot be taken now",
                                   metadata: ["job": .stringConvertible(id), "lock": .string(lock), "error": .string("\(error)")])
                    warned = true
                }
            }
            try? await Task.sleep(for: Self.leasePoll)
        }
        return nil
    }

    /// The fencing token of a running job's cluster lease: rises with every grant of the lock, so a system the
    /// job writes to can refuse a writer whose lease has passed to another.
    func fencingToken(_ id: Int64) -> Int64? {
        state.withLock { $0.live[id]?.lease?.token }
    }

    /// Waits for a job another node runs to end, reading its row; a node that dies has its jobs failed by a
    /// survivor, so this ends too.
    func waitRemote(_ record: JobRecord, credentials: Credentials?) async throws(CallError) -> JobRecord {
        var current = record
        while !current.state.isFinished {
            do {
                try await Task.sleep(for: Self.remotePoll)
            } catch {
                throw CallError(Errno.ECANCELED, "The wait for job \(record.id) was cancelled")
            }
            current = try await self.record(record.id, credentials: credentials)
        }
        return current
    }

    /// Asks the node that runs a job to abort it and waits for its end: true when it ended ABORTED.
    func abortRemote(_ record: JobRecord, credentials: Credentials?, reason: String?) async throws(CallError) -> Bool {
        if record.state == .running && !record.abortable {
            throw CallError(Errno.EINVAL, "Job \(record.id) is not abortable")
        }
        var fields: JSONObject = ["id": .int(record.id)]
        if let reason { fields["reason"] = .string(reason) }
        events.say(Event(name: Self.abortRequestEventName, kind: .added, id: .int(record.id), fields: .object(fields)))
        return try await waitRemote(record, credentials: credentials).state == .aborted
    }

    /// Whether `record` is another node's job that has not ended: one to wait on or abort through its node.
    func isRemoteUnfinished(_ record: JobRecord) -> Bool {
        !record.state.isFinished && !record.node.isEmpty && record.node != nodeName && events.isClustered
    }

    /// Aborts every unfinished job of this node (an abortable running one by cancellation, a waiting one at once),
    /// with `reason` in its error: the node has lost its membership. A running job that is not abortable runs on.
    public func abortAll(reason: String) async {
        let ids = state.withLock { state in state.live.filter { !$0.value.record.state.isFinished }.map(\.key).sorted() }
        for id in ids { _ = try? await abort(id, credentials: nil, reason: reason) }
    }

    /// Fails the unfinished jobs of a node declared dead, each stored with the reason and announced: their
    /// waiters on every node end, and nothing waits for a node that will not answer.
    /// - Returns: how many jobs were failed.
    @discardableResult
    public func failJobs(ofNode node: String, reason: String) async -> Int {
        let rows: [JSON]
        do {
            rows = try await datastore.query(
                JobRecord.table, filters: [.equal("node", .string(node)),
                                           .condition(QueryCondition(field: QueryPath("state"), op: .in, value: ["WAITING", "RUNNING"]))],
                options: QueryOptions()).arrayValue ?? []
        } catch {
            logger.error("cannot read the jobs of a dead node", metadata: ["node": .string(node), "error": .string("\(error)")])
            return 0
        }
        var failed = 0
        let announcement = ChangeAnnouncement { id, row in
            let record = row.flatMap(JobRecord.init(row:))
            return Event(name: Self.eventName, kind: .changed, id: .int(id), fields: record?.json ?? .null, owner: record?.owner)
        }
        for row in rows {
            guard let id = row["id"]?.intValue else { continue }
            let changes: JSONObject = ["state": "FAILED", "error": .string(reason), "errno": .int(Int64(Errno.EHOSTDOWN)),
                                       "time_finished": .int(JobRecord.now())]
            do {
                if let change = try await datastore.update(JobRecord.table, id: id, changes, announcing: announcement) {
                    events.publish(change)
                    failed += 1
                }
            } catch {
                logger.error("cannot fail a job of a dead node", metadata: ["node": .string(node), "job": .stringConvertible(id), "error": .string("\(error)")])
            }
        }
        if failed > 0 {
            logger.warning("jobs of a dead node marked FAILED", metadata: ["node": .string(node), "count": .stringConvertible(failed)])
        }
        return failed
    }
}
