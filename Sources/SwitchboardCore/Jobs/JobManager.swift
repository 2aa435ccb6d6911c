import DequeModule
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
        /// The task that runs the job's whole life; cancelling it cancels the body.
        var runner: Task<Void, Never>?
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
    /// Every stored finished job in id order, with what retention needs: so a pass reads no rows.
    var finished = Deque<FinishedJob>()
    var stopping = false

    struct FinishedJob {
        var id: Int64
        var timeFinished: Int64
        var logsPath: String?
    }

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
        let stored = try await datastore.query(
            JobRecord.table, filters: [.condition(QueryCondition(field: QueryPath("state"), op: .in, value: ["SUCCESS", "FAILED", "ABORTED"]))],
            options: QueryOptions())
        finished = Deque((stored.arrayValue ?? []).compactMap { row -> FinishedJob? in
            guard let id = row["id"]?.intValue else { return nil }
            return FinishedJob(id: id, timeFinished: row["time_finished"]?.intValue ?? 0, logsPath: row["logs_path"]?.stringValue)
        })
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
        for job in live.values where job.record.state == .running { job.runner?.cancel() }
        let settle = ContinuousClock.now + .seconds(2)
        while !live.isEmpty && ContinuousClock.now < settle {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: - Submitting

    /// Accepts a job and returns its id once its row is stored.
    ///
    /// - Parameter idReturned: false when the caller waits for the job's end instead of taking its id (new-style
    ///   jobs): then, unless someone watches job events, the WAITING row rides with the next transaction instead
    ///   of being waited for. Nobody has been told of the job before its final state, and that one is always
    ///   stored before it is told; a daemon dying in between loses a job no one knew the id of.
    /// - Throws: EBUSY when the lock admits no queue and is taken; EBUSY when the daemon is stopping.
    public func submit(method: String, arguments: [JSON], options: JobOptions, context: CallContext, idReturned: Bool = true,
                       body: @escaping JobHandler) async throws(CallError) -> Int64 {
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
        if idReturned || events.isWatched(Self.eventName) {
            do {
                try await journal.write(id, record.row)
            } catch {
                live.removeValue(forKey: id)
                waiting.removeAll { $0 == id }
                throw error as? CallError ?? CallError(Errno.EIO, "Cannot store the job: \(error)")
            }
        } else if !canStartNow(id, lock: lock) {
            // (A job starting now skips its WAITING row: its RUNNING row follows at once and supersedes it.)
            journal.stage(id, record.row)
        }
        announce(.added, id)
        let jobContext = JobContext(id: id, call: context, manager: self)
        let arguments = arguments
        // With nobody ahead of it and a slot and its lock free, the job takes its turn now, without queueing.
        let startsNow = canStartNow(id, lock: lock)
        if startsNow {
            waiting.removeAll()
            running += 1
            if let lock { lockHolders[lock] = id }
        }
        live[id]?.runner = Task { await self.runJob(id, startsNow: startsNow, lock: lock, context: jobContext, arguments: arguments, body: body) }
        return id
    }

    private func canStartNow(_ id: Int64, lock: String?) -> Bool {
        waiting == [id] && running < limits.maxRunning && (lock.map { lockHolders[$0] == nil } ?? true)
    }

    /// One job's whole life, in order: wait for a turn, run, record the outcome. The body runs in this task,
    /// off the actor; abort cancels this task.
    private func runJob(_ id: Int64, startsNow: Bool, lock: String?, context: JobContext, arguments: [JSON], body: @escaping JobHandler) async {
        let go = startsNow ? live[id]?.abortRequested != true : await takeTurn(id)
        guard go, live[id] != nil else {
            if startsNow { release(id, lock: lock) }
            await finish(id, state: .aborted, result: .null, error: CallError(Errno.ECANCELED, "Job aborted before it started"))
            return
        }
        live[id]?.record.state = .running
        live[id]?.record.timeStarted = JobRecord.now()
        // RUNNING is written without waiting for its commit: a daemon that dies now marks the job FAILED
        // (interrupted) at its next start whether the row says WAITING or RUNNING, so nothing is lost, and a
        // short job's RUNNING and final rows then share one transaction (they collapse to the final row).
        if let record = live[id]?.record { journal.stage(id, record.row) }
        announce(.changed, id)
        let outcome: Result<JSON, any Error>
        do {
            outcome = .success(try await body(context, arguments))
        } catch {
            outcome = .failure(error)
        }
        let aborted = live[id]?.abortRequested == true
        switch outcome {
        case .success(let value):
            if aborted && Task.isCancelled {
                await finish(id, state: .aborted, result: .null, error: CallError(Errno.ECANCELED, "Job aborted"))
            } else {
                await finish(id, state: .success, result: value, error: nil)
            }
        case .failure(let error):
            if error is CancellationError || aborted {
                await finish(id, state: .aborted, result: .null, error: CallError(Errno.ECANCELED, "Job aborted"))
            } else if let error = error as? CallError {
                await finish(id, state: .failed, result: .null, error: error)
            } else {
                await finish(id, state: .failed, result: .null, error: CallError(Errno.EFAULT, String(describing: error)))
            }
        }
    }

    /// Gives back the slot and lock a job took without running (aborted before its body started).
    private func release(_ id: Int64, lock: String?) {
        running -= 1
        if let lock, lockHolders[lock] == id { lockHolders.removeValue(forKey: lock) }
        schedule()
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
        if !started.isEmpty {
            let begun = Set(started)
            waiting.removeAll { begun.contains($0) }
        }
    }

    private func finish(_ id: Int64, state: JobState, result: JSON, error: CallError?) async {
        // A job stays live until its final row commits; a second ending in that window (an abort racing the
        // runner) changes nothing.
        guard var job = live[id], !job.record.state.isFinished else { return }
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
        // The body is done, so its slot and lock go to the next job now, not after the final row commits:
        // holding them across the commit made `maxRunning` a bound on commits in flight (32 jobs per
        // transaction at most) rather than on bodies running. The outcome is still told only once stored.
        waiting.removeAll { $0 == id }
        if wasRunning {
            running -= 1
            if let lock = job.record.lock, lockHolders[lock] == id { lockHolders.removeValue(forKey: lock) }
        }
        schedule()
        if job.record.transient {
            try? await journal.delete(id)
        } else {
            if !(await persist(id)) {
                // Never report an outcome that is not on disk: the waiters hear that it could not be stored.
                live[id]?.record.state = .failed
                live[id]?.record.result = .null
                live[id]?.record.error = "The job ended but its state could not be stored"
                live[id]?.record.errno = Errno.EIO
                job = live[id] ?? job
            }
            announce(.changed, id)
            finished.append(FinishedJob(id: id, timeFinished: job.record.timeFinished ?? 0, logsPath: job.record.logsPath))
        }
        let record = job.record
        live.removeValue(forKey: id)
        for waiter in finishWaiters.removeValue(forKey: id) ?? [] { waiter.resume(returning: record) }
        finishedSincePrune += 1
        // A pass reads every finished row, so it runs once per quarter of the retention count: the table may
        // hold up to 25 % more finished jobs than the count between passes.
        if finishedSincePrune >= max(100, limits.retentionCount / 4) {
            finishedSincePrune = 0
            try? await prune()
        }
    }

    /// Stores the job's row and waits for the commit; false (logged) when it could not be stored.
    @discardableResult
    private func persist(_ id: Int64) async -> Bool {
        guard let record = live[id]?.record else { return true }
        do {
            try await journal.write(id, record.row)
            return true
        } catch {
            logger.error("cannot store job state", metadata: ["job": .stringConvertible(id), "error": .string("\(error)")])
            return false
        }
    }

    private func announce(_ kind: EventKind, _ id: Int64) {
        guard let record = live[id]?.record, !record.transient else { return }
        // A job's client shape is a 20-member object: built only when someone listens.
        events.publish(Self.eventName) { Event(name: Self.eventName, kind: kind, id: .int(id), fields: record.json, owner: record.owner) }
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
        // Ended, its final row being stored: nothing left to abort.
        if job.record.state.isFinished { return }
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
        job.runner?.cancel()
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
    /// kept, since its id is where the next id continues. Works from the in-memory ledger of finished jobs,
    /// so a pass costs the deletes only.
    func prune() async throws {
        let cutoff = JobRecord.now() - Int64(limits.retentionAge.components.seconds * 1000)
        let excess = max(0, finished.count - limits.retentionCount)
        var expired: [FinishedJob] = []
        var kept = Deque<FinishedJob>()
        kept.reserveCapacity(finished.count - excess)
        for (index, job) in finished.enumerated() {
            if job.id != nextID && (index < excess || job.timeFinished < cutoff) { expired.append(job) } else { kept.append(job) }
        }
        guard !expired.isEmpty else { return }
        try await datastore.commit(JobRecord.table, upserts: [], deletes: expired.map(\.id))
        finished = kept
        for job in expired {
            if let path = job.logsPath { try? FileManager.default.removeItem(atPath: path) }
        }
    }
}
