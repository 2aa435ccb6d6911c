import Foundation

/// What clients ask of jobs: abort, wait, records and queries, each within what the caller may see.
extension JobManager {
    /// Aborts a job: a waiting one ends ABORTED, stored before this returns; a running one is cancelled (a
    /// process job's children get SIGTERM, then SIGKILL). A finished job is left as it is. The runner records
    /// the end either way, so a job's events keep their order.
    ///
    /// - Returns: true when the abort took effect, and the job then ends ABORTED; false when the job had already
    ///   ended (or was ending) and keeps its outcome.
    ///   Aborting a job aborts the jobs its body submitted (and theirs), first.
    @discardableResult
    public func abort(_ id: Int64, credentials: Credentials?, reason: String? = nil) async throws(CallError) -> Bool {
        enum Action { case gone, none, cancel(Task<Void, Never>?), wait(Turn?) }
        let children = state.withLock { state in
            state.live.filter { $0.value.parent == id && !$0.value.record.state.isFinished }.map(\.key).sorted()
        }
        let action = try state.withLock { state throws(CallError) -> Action in
            guard let job = state.live[id] else { return .gone }
            try Self.checkVisible(job.record, credentials)
            // Ended, its final row being stored: nothing left to abort.
            if job.record.state.isFinished { return .none }
            if job.record.state == .running && !job.record.abortable {
                throw CallError(Errno.EINVAL, "Job \(id) is not abortable")
            }
            state.live[id]?.abortRequested = true
            if let reason { state.live[id]?.abortReason = reason }
            if job.record.state == .running { return .cancel(job.runner) }
            let turn = state.waiting.first { $0.id == id }?.turn
            state.waiting.removeAll { $0.id == id }
            return .wait(turn)
        }
        if case .cancel = action {
            for child in children { _ = try? await abort(child, credentials: nil, reason: reason) }
        }
        switch action {
        case .gone:
            let stored = try await record(id, credentials: credentials)
            // Another node's job: that node aborts it.
            if isRemoteUnfinished(stored) { return try await abortRemote(stored, credentials: credentials, reason: reason) }
            return false
        case .none:
            return false
        case .cancel(let runner):
            runner?.cancel()
            return true
        case .wait(let turn):
            // Its runner wakes with no turn (or finds the flag when it asks for one) and stores ABORTED.
            turn?.resume(returning: false)
            _ = try await waitLive(id, credentials: nil)
            return true
        }
    }

    /// The jobs of these methods that have not ended, oldest first (a plugin's, before it is unloaded).
    func unfinished(methods: Set<String>) -> [Int64] {
        state.withLock { state in
            state.live.filter { !$0.value.record.state.isFinished && methods.contains($0.value.record.method) }.map(\.key).sorted()
        }
    }

    /// Waits for a job to end and returns it.
    public func wait(_ id: Int64, credentials: Credentials? = nil) async throws(CallError) -> JobRecord {
        if let record = try await waitLive(id, credentials: credentials) { return record }
        let stored = try await record(id, credentials: credentials)
        if isRemoteUnfinished(stored) { return try await waitRemote(stored, credentials: credentials) }
        return stored
    }

    /// The job's final record once it ends, or nil when it is not live (so it is stored, or never was).
    private func waitLive(_ id: Int64, credentials: Credentials?) async throws(CallError) -> JobRecord? {
        let visible: Result<Bool, CallError> = state.withLock { state in
            guard let job = state.live[id] else { return .success(false) }
            do throws(CallError) {
                try Self.checkVisible(job.record, credentials)
            } catch {
                return .failure(error)
            }
            return .success(true)
        }
        guard try visible.get() else { return nil }
        return await withCheckedContinuation { (continuation: CheckedContinuation<JobRecord?, Never>) in
            let registered = state.withLock { state -> Bool in
                guard state.live[id] != nil else { return false }
                state.finishWaiters[id, default: []].append(continuation)
                return true
            }
            if !registered { continuation.resume(returning: nil) }
        }
    }

    /// One job from the datastore, or the live one.
    public func record(_ id: Int64, credentials: Credentials?) async throws(CallError) -> JobRecord {
        if let live = state.withLock({ $0.live[id]?.record }) {
            try Self.checkVisible(live, credentials)
            return live
        }
        let row: JSONObject?
        do {
            row = try await datastore.get(JobRecord.table, id: id)
        } catch {
            throw error as? CallError ?? CallError(Errno.EIO, "\(error)")
        }
        guard let row, let record = JobRecord(row: row) else { throw CallError(Errno.ENOENT, "Job \(id) does not exist") }
        try Self.checkVisible(record, credentials)
        return record
    }

    /// `core.get_jobs`: the query language over every kept job, live ones with their current progress.
    /// A session without FULL_ADMIN sees only its own jobs.
    public func query(filters: [QueryFilter], options: QueryOptions, credentials: Credentials?) async throws -> JSON {
        let stored = try await datastore.query(JobRecord.table, filters: Self.ownerFilter(credentials), options: QueryOptions())
        return try QueryEngine.run(clientRows((stored.arrayValue ?? []).compactMap(\.objectValue)), filters: filters, options: options)
    }

    /// `query`'s answer in fragments, the jobs table read page by page when the options allow it; nil for an
    /// answer that is not a list (`count`, `get`).
    public func stream(filters: [QueryFilter], options: QueryOptions, credentials: Credentials?) async throws -> QueryStream? {
        try await QueryStream.offering(options, primaryKey: JobRecord.table.primaryKey) {
            try await query(filters: filters, options: options, credentials: credentials)
        } paged: {
            QueryStream(datastore: datastore, table: JobRecord.table, pushable: Self.ownerFilter(credentials), filters: filters,
                        options: options) { [self] page in clientRows(page) }
        }
    }

    /// Without FULL_ADMIN, only the caller's own jobs.
    static func ownerFilter(_ credentials: Credentials?) -> [QueryFilter] {
        guard let credentials, !credentials.isFullAdmin else { return [] }
        return [.equal("owner", .string(credentials.username))]
    }

    /// Stored job rows as clients see them, live jobs as they are now.
    func clientRows(_ stored: [JSONObject]) -> [JSON] {
        let current = state.withLock { $0.live.mapValues(\.record) }
        return stored.compactMap { object in
            guard var record = JobRecord(row: object) else { return nil }
            if let live = current[record.id] { record = live }
            return record.json
        }
    }

    static func checkVisible(_ record: JobRecord, _ credentials: Credentials?) throws(CallError) {
        guard let credentials else { return }
        if credentials.isFullAdmin || credentials.username == record.owner { return }
        throw CallError(Errno.ENOENT, "Job \(record.id) does not exist")
    }

    public var runningCount: Int { state.withLock { $0.running } }
}
