import Foundation
import Logging

/// Runs jobs: durable state, locks and queues, progress, logs, abort, waiting, retention.
///
/// Every state change is written to the datastore before it is announced, and a job id is returned to its
/// caller only once its row exists, so no accepted job is lost. Each job's transitions happen in order in its
/// own runner task; the actor only keeps the bookkeeping (who holds which lock, who waits) consistent.
public actor JobManager {
    public struct Limits: Sendable, Equatable {
        /// Jobs running at once across the daemon; more wait.
        public var maxRunning: Int
        /// Finished jobs kept: at most this many...
        public var retentionCount: Int
        /// ...and none older than this.
        public var retentionAge: Duration
        /// How long a stopping daemon lets running jobs finish before it aborts them.
        public var shutdownGrace: Duration

        public init(maxRunning: Int = 32, retentionCount: Int = 1_000, retentionAge: Duration = .seconds(7 * 86_400),
                    shutdownGrace: Duration = .seconds(10)) {
            self.maxRunning = maxRunning
            self.retentionCount = retentionCount
            self.retentionAge = retentionAge
            self.shutdownGrace = shutdownGrace
        }
    }

    public static let eventName = "core.get_jobs"
    static let interruptedReason = "interrupted: daemon restarted"

    struct LiveJob {
        var record: JobRecord
        var body: Task<JSON, any Error>?
        var turn: CheckedContinuation<Bool, Never>?
        var log: JobLog?
        var abortRequested = false
    }

    let datastore: any Datastore
    let journal: JobJournal
    let events: EventBus
    let logDirectory: String
    let logger: Logger
    public let limits: Limits
    var nextID: Int64 = 0
    var live: [Int64: LiveJob] = [:]
    var waiting: [Int64] = []
    var running = 0
    var lockHolders: [String: Int64] = [:]
    var finishWaiters: [Int64: [CheckedContinuation<JobRecord, Never>]] = [:]
    var finishedSincePrune = 0
    var stopping = false

    public init(datastore: any Datastore, events: EventBus, stateDirectory: String, logger: Logger, limits: Limits = Limits()) {
        self.datastore = datastore
        self.journal = JobJournal(datastore: datastore, table: JobRecord.table)
        self.events = events
        self.logDirectory = (stateDirectory as NSString).appendingPathComponent("jobs")
        self.logger = logger
        self.limits = limits
    }

    // MARK: - Start and stop

    /// Prepares the table, fails the jobs a dead daemon left WAITING or RUNNING, and applies retention.
    public func start() async throws {
        try await datastore.prepare(JobRecord.table)
        let unfinished = try await datastore.query(
            JobRecord.table, filters: [.condition(QueryCondition(field: QueryPath("state"), op: .in,
                                                                   value: [.string("WAITING"), .string("RUNNING")]))],
            options: QueryOptions())
        for row in unfinished.arrayValue ?? [] {
            guard let id = row["id"]?.intValue else { continue }
            _ = try await datastore.update(JobRecord.table, id: id, [
                "state": "FAILED", "error": .string(Self.interruptedReason), "errno": .int(Int64(Errno.EINTR)),
                "time_finished": .int(JobRecord.now()),
            ])
        }
        if !(unfinished.arrayValue ?? []).isEmpty {
            logger.notice("jobs interrupted by the last stop marked FAILED", metadata: ["count": .stringConvertible(unfinished.arrayValue?.count ?? 0)])
        }
        var newest = QueryOptions()
        newest.orderBy = [QueryOptions.Order(field: QueryPath("id"), descending: true, nullsFirst: nil)]
        newest.limit = 1
        nextID = (try await datastore.query(JobRecord.table, filters: [], options: newest))[0]?["id"]?.intValue ?? 0
        try await prune()
    }

    /// Lets running jobs finish within the grace period, then aborts the rest and records them as interrupted.
    public func shutdown() async {
        stopping = true
        for id in waiting { live[id]?.abortRequested = true }
        for id in waiting { live[id]?.turn?.resume(returning: false); live[id]?.turn = nil }
        waiting.removeAll()
        let deadline = ContinuousClock.now + limits.shutdownGrace
        while live.values.contains(where: { $0.record.state == .running }) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        for job in live.values where job.record.state == .running { job.body?.cancel() }
        let settle = ContinuousClock.now + .seconds(2)
        while !live.isEmpty && ContinuousClock.now < settle {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: - Submitting

    /// Accepts a job and returns its id once its row is stored.
    /// - Throws: EBUSY when the lock admits no queue and is taken; EBUSY when the daemon is stopping.
    public func submit(method: String, arguments: [JSON], options: JobOptions, context: CallContext, body: @escaping JobHandler) async throws(CallError) -> Int64 {
        if stopping { throw CallError.busy("The daemon is stopping") }
        let lock = options.lock?(arguments)
        let messageID = context.messageID
        if let lock, let queueSize = options.lockQueueSize {
            let holder = lockHolders[lock]
            let queued = waiting.filter { live[$0]?.record.lock == lock }
            if queueSize == 0, holder != nil || !queued.isEmpty {
                throw CallError.busy("This job is already being performed")
            }
            if queueSize > 0, queued.count >= queueSize, let existing = queued.last {
                if !messageID.isNull { live[existing]?.record.messageIDs.append(messageID) }
                return existing
            }
        }
        nextID += 1
        let id = nextID
        var record = JobRecord(
            id: id, method: method, arguments: arguments, messageIDs: messageID.isNull ? [] : [messageID],
            owner: context.credentials?.username ?? "", description: options.description?(arguments),
            abortable: options.abortable, transient: options.transient, lock: lock)
        var log: JobLog?
        if options.logs {
            log = JobLog(directory: logDirectory, id: id)
            record.logsPath = log?.path
        }
        live[id] = LiveJob(record: record, log: log)
        waiting.append(id)
        do {
            try await journal.write(id, record.row)
        } catch {
            live.removeValue(forKey: id)
            waiting.removeAll { $0 == id }
            throw error as? CallError ?? CallError(Errno.EIO, "Cannot store the job: \(error)")
        }
        announce(.added, id)
        let jobContext = JobContext(id: id, call: context, manager: self)
        let arguments = arguments
        Task { await self.runJob(id, context: jobContext, arguments: arguments, body: body) }
        return id
    }

    /// One job's whole life, in order: wait for a turn, run, record the outcome.
    private func runJob(_ id: Int64, context: JobContext, arguments: [JSON], body: @escaping JobHandler) async {
        let go = await takeTurn(id)
        guard go, var job = live[id] else {
            await finish(id, state: .aborted, result: .null, error: CallError(Errno.ECANCELED, "Job aborted before it started"))
            return
        }
        job.record.state = .running
        job.record.timeStarted = JobRecord.now()
        let task = Task { try await body(context, arguments) }
        job.body = task
        live[id] = job
        await persist(id)
        announce(.changed, id)
        if job.abortRequested { task.cancel() }
        let outcome = await task.result
        switch outcome {
        case .success(let value):
            if live[id]?.abortRequested == true && Task.isCancelled {
                await finish(id, state: .aborted, result: .null, error: CallError(Errno.ECANCELED, "Job aborted"))
            } else {
                await finish(id, state: .success, result: value, error: nil)
            }
        case .failure(let error):
            if error is CancellationError || live[id]?.abortRequested == true {
                await finish(id, state: .aborted, result: .null, error: CallError(Errno.ECANCELED, "Job aborted"))
            } else if let error = error as? CallError {
                await finish(id, state: .failed, result: .null, error: error)
            } else {
                await finish(id, state: .failed, result: .null, error: CallError(Errno.EFAULT, String(describing: error)))
            }
        }
    }

    /// Waits until the job may run: its lock free and a global slot available, first come first served.
    private func takeTurn(_ id: Int64) async -> Bool {
        if live[id]?.abortRequested != false { return false }
        return await withCheckedContinuation { continuation in
            live[id]?.turn = continuation
            schedule()
        }
    }

    /// Starts every waiting job that may start now, in submission order; a job waiting for a lock keeps
    /// later jobs of the same lock behind it.
    private func schedule() {
        var blockedLocks = Set<String>()
        var started: [Int64] = []
        for id in waiting {
            guard running < limits.maxRunning else { break }
            guard let job = live[id] else { continue }
            let lock = job.record.lock
            if let lock, blockedLocks.contains(lock) || lockHolders[lock] != nil {
                blockedLocks.insert(lock)
                continue
            }
            guard let turn = job.turn else {
                // Its runner has not reached the queue yet: hold its place.
                if let lock { blockedLocks.insert(lock) }
                continue
            }
            running += 1
            if let lock { lockHolders[lock] = id }
            live[id]?.turn = nil
            started.append(id)
            turn.resume(returning: true)
        }
        waiting.removeAll { started.contains($0) }
    }

    private func finish(_ id: Int64, state: JobState, result: JSON, error: CallError?) async {
        guard var job = live[id] else { return }
        let wasRunning = job.record.state == .running
        job.record.state = state
        job.record.result = result
        job.record.timeFinished = JobRecord.now()
        if state == .success { job.record.percent = 100 }
        if let error {
            job.record.error = error.reason
            job.record.errno = error.errno
            job.record.errorExtra = error.extra
            job.record.exception = "CallError: [\(error.errname)] \(error.reason)"
        }
        job.log?.close()
        if let path = job.record.logsPath { job.record.logsExcerpt = JobLog.excerpt(path: path) }
        live[id] = job
        if job.record.transient {
            try? await journal.delete(id)
        } else {
            await persist(id)
            announce(.changed, id)
        }
        let record = job.record
        live.removeValue(forKey: id)
        waiting.removeAll { $0 == id }
        if wasRunning {
            running -= 1
            if let lock = record.lock, lockHolders[lock] == id { lockHolders.removeValue(forKey: lock) }
        }
        for waiter in finishWaiters.removeValue(forKey: id) ?? [] { waiter.resume(returning: record) }
        schedule()
        finishedSincePrune += 1
        // A pass reads every finished row, so it runs once per quarter of the retention count: the table may
        // hold up to 25 % more finished jobs than the count between passes.
        if finishedSincePrune >= max(100, limits.retentionCount / 4) {
            finishedSincePrune = 0
            try? await prune()
        }
    }

    private func persist(_ id: Int64) async {
        guard let record = live[id]?.record else { return }
        do {
            try await journal.write(id, record.row)
        } catch {
            logger.error("cannot store job state", metadata: ["job": .stringConvertible(id), "error": .string("\(error)")])
        }
    }

    private func announce(_ kind: EventKind, _ id: Int64) {
        guard let record = live[id]?.record, !record.transient else { return }
        events.publish(Event(name: Self.eventName, kind: kind, id: .int(id), fields: record.json, owner: record.owner))
    }

    // MARK: - Progress and logs

    func setProgress(_ id: Int64, percent: Int64?, description: String?, extra: JSON) {
        guard var job = live[id], job.record.state == .running else { return }
        let changed = job.record.percent != percent || job.record.progressDescription != description || job.record.progressExtra != extra
        guard changed else { return }
        job.record.percent = percent
        job.record.progressDescription = description
        job.record.progressExtra = extra
        live[id] = job
        announce(.changed, id)
    }

    func appendLog(_ id: Int64, _ bytes: [UInt8]) {
        guard var job = live[id] else { return }
        if job.log == nil {
            job.log = JobLog(directory: logDirectory, id: id)
            job.record.logsPath = job.log?.path
            live[id] = job
        }
        job.log?.write(bytes)
    }

    // MARK: - Clients

    /// Aborts a job: a waiting one ends ABORTED at once, a running one is cancelled (a process job's children
    /// get SIGTERM, then SIGKILL). A finished job is left as it is.
    public func abort(_ id: Int64, credentials: Credentials?) async throws(CallError) {
        guard var job = live[id] else {
            _ = try await record(id, credentials: credentials)
            return
        }
        try Self.checkVisible(job.record, credentials)
        if job.record.state == .running && !job.record.abortable {
            throw CallError(Errno.EINVAL, "Job \(id) is not abortable")
        }
        job.abortRequested = true
        live[id] = job
        if job.record.state == .waiting {
            // Straight to ABORTED, stored before this returns; its runner finds the job gone and stops.
            if let turn = job.turn {
                live[id]?.turn = nil
                turn.resume(returning: false)
            }
            waiting.removeAll { $0 == id }
            await finish(id, state: .aborted, result: .null, error: CallError(Errno.ECANCELED, "Job aborted before it started"))
            return
        }
        job.body?.cancel()
    }

    /// Waits for a job to end and returns it.
    public func wait(_ id: Int64, credentials: Credentials? = nil) async throws(CallError) -> JobRecord {
        if let job = live[id] {
            try Self.checkVisible(job.record, credentials)
            return await withCheckedContinuation { continuation in
                finishWaiters[id, default: []].append(continuation)
            }
        }
        return try await record(id, credentials: credentials)
    }

    /// One job from the datastore, or the live one.
    public func record(_ id: Int64, credentials: Credentials?) async throws(CallError) -> JobRecord {
        if let job = live[id] {
            try Self.checkVisible(job.record, credentials)
            return job.record
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
        var ownerFilter: [QueryFilter] = []
        if let credentials, !credentials.roles.contains(Role.fullAdmin) {
            ownerFilter = [.equal("owner", .string(credentials.username))]
        }
        let stored = try await datastore.query(JobRecord.table, filters: ownerFilter, options: QueryOptions())
        var rows: [JSON] = []
        for row in stored.arrayValue ?? [] {
            guard let object = row.objectValue, var record = JobRecord(row: object) else { continue }
            if let current = live[record.id] { record = current.record }
            rows.append(record.json)
        }
        return try QueryEngine.run(rows, filters: filters, options: options)
    }

    static func checkVisible(_ record: JobRecord, _ credentials: Credentials?) throws(CallError) {
        guard let credentials else { return }
        if credentials.roles.contains(Role.fullAdmin) || credentials.username == record.owner { return }
        throw CallError(Errno.ENOENT, "Job \(record.id) does not exist")
    }

    public var runningCount: Int { running }

    // MARK: - Retention

    /// Deletes finished jobs beyond the count or older than the age, oldest first; the newest job is always
    /// kept, since its id is where the next id continues.
    func prune() async throws {
        let finished = try await datastore.query(
            JobRecord.table, filters: [.condition(QueryCondition(field: QueryPath("state"), op: .in, value: ["SUCCESS", "FAILED", "ABORTED"]))],
            options: QueryOptions())
        let rows = (finished.arrayValue ?? []).compactMap { row -> (Int64, Int64, String?)? in
            guard let id = row["id"]?.intValue else { return nil }
            return (id, row["time_finished"]?.intValue ?? 0, row["logs_path"]?.stringValue)
        }.sorted { $0.0 < $1.0 }
        let cutoff = JobRecord.now() - Int64(limits.retentionAge.components.seconds * 1000)
        let excess = max(0, rows.count - limits.retentionCount)
        let expired = rows.enumerated().filter { index, row in row.0 != nextID && (index < excess || row.1 < cutoff) }.map(\.element)
        guard !expired.isEmpty else { return }
        try await datastore.commit(JobRecord.table, upserts: [], deletes: expired.map(\.0))
        for row in expired {
            if let path = row.2 { try? FileManager.default.removeItem(atPath: path) }
        }
    }
}
