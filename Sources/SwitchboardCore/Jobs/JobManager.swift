import DequeModule
import Foundation
import Logging
import Synchronization

/// Runs jobs: durable state, locks and queues, progress, logs, abort, waiting, retention.
///
/// Every state change is written to the datastore before it is announced, and a job id is returned to its
/// caller only once its row exists, so no accepted job is lost. Each job's transitions (and its events) happen
/// in order in its own runner task, abort included: an abort only flags the job and, for a running one,
/// cancels its body. The bookkeeping (who holds which lock, who waits for a turn) lives behind one mutex that is
/// never held across an `await`, so submitting, starting and finishing different jobs run on whatever threads
/// their callers are on: as an actor, every job hopped onto it three times, which cost more than the job.
public final class JobManager: Sendable {
    public static let eventName = "core.get_jobs"
    static let interruptedReason = "interrupted: daemon restarted"

    /// The job whose body is running in this task, if any: a job submitted from it is its child.
    @TaskLocal static var enclosingJob: Int64?

    /// The job whose body runs in the current task, if any: what the daemon's log lines name as `job`.
    public static var currentJobID: Int64? { enclosingJob }

    struct LiveJob {
        var record: JobRecord
        /// The job whose body submitted this one: aborting it aborts this one, and this one never waits
        /// for a lock its ancestor holds or for a slot its ancestor's wait would keep.
        var parent: Int64?
        /// The task that runs the job's whole life; cancelling it cancels the body.
        var runner: Task<Void, Never>?
        var log: JobLog?
        var abortRequested = false
        /// Why it was aborted, when the daemon did it (a plugin unloaded past its grace): told in its error.
        var abortReason: String?
        /// Made at the first progress report: a job that reports none costs nothing for pacing.
        var pacer: ProgressPacer?
        /// Counts progress reports, so the pacer can tell the newest.
        var progressVersion: UInt64 = 0
        /// In a cluster, the lease on its lock while it runs: the lock and the fencing token.
        var lease: (lock: String, token: Int64)?
    }

    struct FinishedJob {
        var id: Int64
        /// Retention counts per owner: one user's volume never erases another's history.
        var owner: String
        var timeFinished: Int64
        var logsPath: String?
    }

    typealias Turn = CheckedContinuation<Bool, Never>

    /// A job waiting for a turn: what scheduling needs, apart from the job, so a pass copies no records.
    struct Waiter {
        var id: Int64
        var lock: String?
        /// Set once its runner asks for a turn.
        var turn: Turn?
    }

    struct State {
        var live: [Int64: LiveJob] = [:]
        /// Jobs waiting for a turn, in submission order.
        var waiting: [Waiter] = []
        var running = 0
        var lockHolders: [String: Int64] = [:]
        var finishWaiters: [Int64: [CheckedContinuation<JobRecord?, Never>]] = [:]
        var finishedSincePrune = 0
        var pruning = false
        /// Every stored finished job in id order, with what retention needs: so a pass reads no rows.
        var finished = Deque<FinishedJob>()
        var stopping = false

        /// Whether `lock` is held by `job` or one of its ancestors.
        func isHeld(_ lock: String, byAncestorOf job: Int64?) -> Bool {
            var current = job
            var depth = 0
            while let ancestor = current, depth < 1_000 {
                if lockHolders[lock] == ancestor { return true }
                current = live[ancestor]?.parent
                depth += 1
            }
            return false
        }

        /// Whether a job of this parent is a running job's child, which takes no slot of its own (its parent holds one).
        func isChildOfRunning(_ parent: Int64?) -> Bool { parent.map { live[$0]?.record.state == .running } ?? false }

        func canStartNow(_ id: Int64, lock: String?, maxRunning: Int) -> Bool {
            waiting.count == 1 && waiting[0].id == id && running < maxRunning && (lock.map { lockHolders[$0] == nil } ?? true)
        }

        /// Gives a turn to every waiting job that may start now, in submission order; a job waiting for a lock
        /// keeps later jobs of the same lock behind it. Returns the turns to resume once the lock is let go.
        mutating func schedule(maxRunning: Int) -> [Turn] {
            guard !waiting.isEmpty, running < maxRunning else { return [] }
            var blockedLocks = Set<String>()
            var turns: [Turn] = []
            var started = Set<Int64>()
            for waiter in waiting {
                guard running < maxRunning else { break }
                let id = waiter.id
                let lock = waiter.lock
                if let lock, blockedLocks.contains(lock) || lockHolders[lock] != nil {
                    blockedLocks.insert(lock)
                    continue
                }
                guard let turn = waiter.turn else {
                    // Its runner has not reached the queue yet: hold its place.
                    if let lock { blockedLocks.insert(lock) }
                    continue
                }
                running += 1
                if let lock { lockHolders[lock] = id }
                started.insert(id)
                turns.append(turn)
            }
            if !started.isEmpty { waiting.removeAll { started.contains($0.id) } }
            return turns
        }

        /// Gives back the slot and lock of a job that held them.
        mutating func release(_ id: Int64, lock: String?) {
            running -= 1
            if let lock, lockHolders[lock] == id { lockHolders.removeValue(forKey: lock) }
        }
    }

    let datastore: any Datastore
    let alerts: Alerts
    let journal: JobJournal
    /// Job ids, unique across the nodes sharing the datastore.
    let ids: IDReservation
    /// In a cluster, where job locks are also taken, so that a lock holds on every node (`joinCluster`).
    let clusterLocks = Mutex<(any ClusterLocks)?>(nil)
    let events: EventBus
    let logDirectory: String
    let logger: Logger
    /// This node's name (`dispatcher.node-name`), stamped on every job it runs.
    public let nodeName: String
    public let limits: Limits
    /// Internal, not private: `JobManager+Progress.swift` reports progress under it.
    let state = Mutex(State())
    /// Told the method and final state of each of this node's jobs as it ends (the metrics' finished jobs).
    let onFinished: (@Sendable (_ method: String, _ state: JobState) -> Void)?

    public init(datastore: any Datastore, events: EventBus, stateDirectory: String, logger: Logger, limits: Limits = Limits(),
                alerts: Alerts? = nil, nodeName: String = Runtime.hostname,
                onFinished: (@Sendable (_ method: String, _ state: JobState) -> Void)? = nil) {
        self.onFinished = onFinished
        self.nodeName = nodeName
        self.alerts = alerts ?? Alerts(events: events, logger: logger)
        self.datastore = datastore
        self.journal = JobJournal(datastore: datastore, table: JobRecord.table) { [events] in events.relay($0) }
        self.ids = IDReservation(datastore: datastore, sequence: JobRecord.table.name, blockSize: 1_000)
        self.events = events
        self.logDirectory = (stateDirectory as NSString).appendingPathComponent("jobs")
        self.logger = logger
        self.limits = limits
    }

    private static func resume(_ turns: [Turn]) {
        for turn in turns { turn.resume(returning: true) }
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
        let declaredLock = options.lock?(arguments)
        let parent = Self.enclosingJob
        let messageID = context.messageID
        let description = options.description?(arguments)
        let owner = context.credentials?.username ?? ""
        // The daemon's own jobs and an administrator's are not counted against a quota.
        let limited = context.credentials.map { !$0.isFullAdmin && $0.mechanism != .internal } ?? false
        let logDirectory = logDirectory
        // A lock that admits no queue refuses too while another node holds it, and so does an upload's (below).
        let uploads = context.pipes?.input != nil
        if let declaredLock, options.lockQueueSize == 0 || uploads, let locks = clusterLocks.withLock({ $0 }),
           let holder = try? await locks.holder(declaredLock), holder != nodeName {
            throw CallError.busy(uploads ? "Node \(holder) holds this job's lock (\(declaredLock)); an upload cannot wait for it"
                                 : "This job is already being performed (on node \(holder))")
        }
        // Taken before the bookkeeping lock, which is never held across an await; given back when unused.
        let id: Int64
        do {
            id = try await ids.take()
        } catch {
            throw error as? CallError ?? CallError(Errno.EIO, "Cannot number the job: \(error)")
        }
        enum Admission { case queuedBehind(Int64), accepted(JobRecord, lock: String?, reserved: Bool) }
        let admission: Admission
        do throws(CallError) { admission = try state.withLock { state throws(CallError) -> Admission in
            if state.stopping { throw CallError.busy("The daemon is stopping") }
            if limited {
                let open = state.live.values.reduce(0) { $0 + ($1.record.owner == owner && !$1.record.state.isFinished ? 1 : 0) }
                if open >= limits.maxPerUser {
                    throw CallError.busy("Too many unfinished jobs of \(owner) (\(limits.maxPerUser)); wait for some to end")
                }
            }
            // A lock an ancestor holds is already this job's: waiting for it would wait for ourselves
            // (core.bulk inside core.bulk waited on its own bulk:core.bulk lock for good).
            let lock = declaredLock.flatMap { state.isHeld($0, byAncestorOf: parent) ? nil : $0 }
            if let lock, let queueSize = options.lockQueueSize {
                let holder = state.lockHolders[lock]
                let queued = state.waiting.filter { $0.lock == lock }.map(\.id)
                if queueSize == 0, holder != nil || !queued.isEmpty {
                    throw CallError.busy("This job is already being performed")
                }
                // A call carrying a transfer cannot ride on another job: nobody would read or write it.
                if queueSize > 0, queued.count >= queueSize, context.pipes != nil {
                    throw CallError.busy("This job's queue is full")
                }
                if queueSize > 0, queued.count >= queueSize, let existing = queued.last {
                    if !messageID.isNull { state.live[existing]?.record.messageIDs.append(messageID) }
                    return .queuedBehind(existing)
                }
            }
            // An upload cannot wait for its turn: nobody would read its body meanwhile, and the HTTP idle timeout
            // would cut its client off. It takes its slot and lock here, or it is refused with the reason.
            if uploads {
                if let lock, let holder = state.lockHolders[lock] ?? state.waiting.first(where: { $0.lock == lock })?.id {
                    throw CallError.busy("Job \(holder) holds or awaits this job's lock (\(lock)); an upload cannot wait for it: "
                                         + "send it again once that job has ended")
                }
                if !state.isChildOfRunning(parent), state.running >= limits.maxRunning {
                    throw CallError.busy("All \(limits.maxRunning) job slots are taken; an upload cannot wait for one: send it again later")
                }
                state.running += 1
                if let lock { state.lockHolders[lock] = id }
            }
            var record = JobRecord(
                id: id, node: nodeName, method: method, arguments: arguments, messageIDs: messageID.isNull ? [] : [messageID],
                owner: owner, description: description, abortable: options.abortable, transient: options.transient, lock: declaredLock)
            // The log file is opened outside the lock; its path is known now.
            if options.logs { record.logsPath = JobLog.path(directory: logDirectory, id: id) }
            state.live[id] = LiveJob(record: record, parent: parent)
            if !uploads { state.waiting.append(Waiter(id: id, lock: lock)) }
            return .accepted(record, lock: lock, reserved: uploads)
        } } catch {
            ids.giveBack(id)
            throw error
        }
        if case .queuedBehind = admission { ids.giveBack(id) }
        let record: JobRecord
        let lock: String?
        let reserved: Bool
        switch admission {
        case .queuedBehind(let existing): return existing
        case .accepted(let accepted, let schedulingLock, let taken): (record, lock, reserved) = (accepted, schedulingLock, taken)
        }
        if options.logs {
            let log = JobLog(directory: logDirectory, id: id)
            state.withLock { $0.live[id]?.log = log }
        }
        let added = clusterEvent(.added, record)
        if idReturned || events.isWatched(Self.eventName) {
            do {
                try await journal.write(record, announcing: added)
            } catch {
                let turns = state.withLock { state -> [Turn] in
                    state.live.removeValue(forKey: id)
                    state.waiting.removeAll { $0.id == id }
                    if reserved { state.release(id, lock: lock) }
                    return state.schedule(maxRunning: limits.maxRunning)
                }
                Self.resume(turns)
                throw error as? CallError ?? CallError(Errno.EIO, "Cannot store the job: \(error)")
            }
        } else if !reserved, !state.withLock({ $0.canStartNow(id, lock: lock, maxRunning: limits.maxRunning) }) {
            // (A job starting now skips its WAITING row: its RUNNING row follows at once and supersedes it.)
            journal.stage(record, announcing: added)
        } else if let added {
            journal.stage(announcing: added)
        }
        announce(.added, record, made: added)
        let jobContext = JobContext(id: id, call: context, manager: self)
        // With nobody ahead of it and a slot and its lock free, the job takes its turn now, without queueing.
        // A running job's child does not queue for a slot either: its parent holds one and waits for it.
        let startsNow = reserved || state.withLock { state -> Bool in
            if state.isChildOfRunning(parent) {
                guard lock.map({ state.lockHolders[$0] == nil }) ?? true else { return false }
                state.waiting.removeAll { $0.id == id }
            } else {
                guard state.canStartNow(id, lock: lock, maxRunning: limits.maxRunning) else { return false }
                state.waiting.removeAll()
            }
            state.running += 1
            if let lock { state.lockHolders[lock] = id }
            return true
        }
        let runner = Task {
            await self.runJob(id, startsNow: startsNow, lock: lock, context: jobContext, arguments: arguments, body: body)
            // Whatever the ending, a transfer still going stops now rather than at its client's stall timeout.
            context.pipes?.end("job \(id) ended")
        }
        let abortedMeanwhile = state.withLock { state -> Bool in
            state.live[id]?.runner = runner
            return state.live[id]?.abortRequested == true
        }
        // An abort that came before the runner was stored had nothing to cancel.
        if abortedMeanwhile { runner.cancel() }
        return id
    }

    /// One job's whole life, in order: wait for a turn, run, record the outcome. The body runs in this task;
    /// abort cancels this task.
    private func runJob(_ id: Int64, startsNow: Bool, lock: String?, context: JobContext, arguments: [JSON], body: @escaping JobHandler) async {
        let granted = startsNow ? true : await takeTurn(id)
        // In a cluster the lock is also leased, holding the local turn meanwhile: jobs of the lock queue here
        // behind this one, and the node holding the lease finishes first.
        var lease: (lock: String, token: Int64)?
        if granted, let lock, let locks = clusterLocks.withLock({ $0 }), let token = await takeLease(id, lock: lock, locks: locks) {
            lease = (lock, token)
        }
        // The turn and the move to RUNNING are one step, so an abort sees the job either WAITING or RUNNING.
        let (started, turns) = state.withLock { state -> (JobRecord?, [Turn]) in
            guard granted, state.live[id]?.abortRequested == false else {
                guard granted else { return (nil, []) }
                state.release(id, lock: lock)
                return (nil, state.schedule(maxRunning: limits.maxRunning))
            }
            state.live[id]?.record.state = .running
            state.live[id]?.record.timeStarted = JobRecord.now()
            state.live[id]?.lease = lease
            return (state.live[id]?.record, [])
        }
        guard let record = started else {
            if let lease, let locks = clusterLocks.withLock({ $0 }) { await locks.release(lease.lock, token: lease.token) }
            Self.resume(turns)
            await finish(id, state: .aborted, result: .null, error: CallError(Errno.ECANCELED, "Job aborted before it started"))
            return
        }
        // RUNNING is written without waiting for its commit: a daemon that dies now marks the job FAILED
        // (interrupted) at its next start whether the row says WAITING or RUNNING, so nothing is lost, and a
        // short job's RUNNING and final rows then share one transaction (they collapse to the final row).
        let running = clusterEvent(.changed, record)
        journal.stage(record, announcing: running)
        announce(.changed, record, made: running)
        let outcome: Result<JSON, any Error>
        do {
            outcome = .success(try await Self.$enclosingJob.withValue(id) { try await body(context, arguments) })
        } catch {
            outcome = .failure(error)
        }
        switch outcome {
        case .success(let value):
            await finish(id, state: .success, result: value, error: nil)
        case .failure(is CancellationError):
            await finish(id, state: .aborted, result: .null, error: Self.abortedError)
        case .failure(let error as CallError):
            await finish(id, state: .failed, result: .null, error: error)
        case .failure(let error):
            await finish(id, state: .failed, result: .null, error: CallError(Errno.EFAULT, String(describing: error)))
        }
    }

    private static var abortedError: CallError { CallError(Errno.ECANCELED, "Job aborted") }

    /// Waits until the job may run: its lock free and a global slot available, first come first served.
    /// False when it was aborted first.
    private func takeTurn(_ id: Int64) async -> Bool {
        await withCheckedContinuation { (continuation: Turn) in
            let turns = state.withLock { state -> [Turn]? in
                guard state.live[id]?.abortRequested == false, let index = state.waiting.firstIndex(where: { $0.id == id }) else { return nil }
                state.waiting[index].turn = continuation
                return state.schedule(maxRunning: limits.maxRunning)
            }
            if let turns { Self.resume(turns) } else { continuation.resume(returning: false) }
        }
    }

    /// Records a job's end: stored first, then told (event and waiters). Runs in the job's runner task.
    private func finish(_ id: Int64, state final: JobState, result: JSON, error: CallError?) async {
        // The body is done, so its slot and lock go to the next job now, not after the final row commits:
        // holding them across the commit made `maxRunning` a bound on commits in flight rather than on bodies
        // running. A job stays live until its final row commits; a second ending in that window changes nothing.
        let ended = state.withLock { state -> (job: LiveJob, turns: [Turn])? in
            // Changed in place (through the index): a live job is a large value, and copying it out and back
            // showed in profiles.
            guard let index = state.live.index(forKey: id), !state.live.values[index].record.state.isFinished else { return nil }
            let wasRunning = state.live.values[index].record.state == .running
            // An abort accepted while the body ran wins over whatever the body returned: the flag and the final
            // state change under this one lock, so `abort` either finds the job ended (and changes nothing) or
            // is told it took effect, and then the job ends ABORTED, never SUCCESS.
            var final = final, result = result, error = error
            if state.live.values[index].abortRequested && final != .aborted {
                (final, result, error) = (.aborted, .null, Self.abortedError)
            }
            if final == .aborted, let reason = state.live.values[index].abortReason {
                error = CallError(Errno.ECANCELED, "Job aborted: \(reason)")
            }
            state.live.values[index].record.state = final
            state.live.values[index].record.result = result
            state.live.values[index].record.timeFinished = JobRecord.now()
            if final == .success { state.live.values[index].record.percent = 100 }
            if let error {
                state.live.values[index].record.error = error.reason
                state.live.values[index].record.errno = error.errno
                state.live.values[index].record.errorExtra = error.extra
                state.live.values[index].record.exception = "CallError: [\(error.errname)] \(error.reason)"
            }
            let job = state.live.values[index]
            state.waiting.removeAll { $0.id == id }
            if wasRunning { state.release(id, lock: job.record.lock) }
            return (job, state.schedule(maxRunning: limits.maxRunning))
        }
        guard let ended else { return }
        onFinished?(ended.job.record.method, ended.job.record.state)
        if let lease = ended.job.lease, let locks = clusterLocks.withLock({ $0 }) { await locks.release(lease.lock, token: lease.token) }
        Self.resume(ended.turns)
        var record = ended.job.record
        ended.job.log?.close()
        if let path = record.logsPath {
            record.logsExcerpt = JobLog.excerpt(path: path)
            let excerpt = record.logsExcerpt
            state.withLock { $0.live[id]?.record.logsExcerpt = excerpt }
        }
        // No held progress report is sent after this: the final event is the job's last.
        ended.job.pacer?.end()
        if record.transient {
            try? await journal.delete(id)
        } else {
            let final = clusterEvent(.changed, record)
            do {
                try await journal.write(record, announcing: final)
                announce(.changed, record, made: final)
            } catch {
                // Never report an outcome that is not on disk: the waiters hear that it could not be stored.
                logger.error("cannot store job state", metadata: ["job": .stringConvertible(id), "error": .string("\(error)")])
                record.state = .failed
                record.result = .null
                record.error = "The job ended but its state could not be stored"
                record.errno = Errno.EIO
                // Nothing was stored with it: every node hears the failure as any event.
                events.publish(Self.eventName) { Self.event(.changed, record) }
            }
        }
        let retention = max(100, limits.retentionCount / 4)
        let (waiters, pruneDue) = state.withLock { state -> ([CheckedContinuation<JobRecord?, Never>], Bool) in
            if !record.transient {
                state.finished.append(FinishedJob(id: id, owner: record.owner, timeFinished: record.timeFinished ?? 0, logsPath: record.logsPath))
            }
            state.live.removeValue(forKey: id)
            state.finishedSincePrune += 1
            // A pass runs once per quarter of the retention count: the table may hold up to 25 % more
            // finished jobs than the count between passes.
            var due = false
            if state.finishedSincePrune >= retention && !state.pruning {
                state.finishedSincePrune = 0
                state.pruning = true
                due = true
            }
            return (state.finishWaiters.removeValue(forKey: id) ?? [], due)
        }
        for waiter in waiters { waiter.resume(returning: record) }
        if pruneDue {
            try? await prune()
            state.withLock { $0.pruning = false }
        }
    }

    /// Publishes the event of a job's change on this node; the other nodes get it from the journal, with the
    /// job's row (`clusterEvent`). `made` is that event when it was built for them already.
    func announce(_ kind: EventKind, _ record: JobRecord, made: Event? = nil) {
        guard !record.transient else { return }
        // A job's client shape is a 20-member object: built only when someone listens.
        events.publish(Self.eventName, channel: nil, toCluster: false) { made ?? Self.event(kind, record) }
    }

    /// The event of a job's change for the other nodes, handed to the journal to commit with the job's row;
    /// nil while the daemon is not in a cluster.
    func clusterEvent(_ kind: EventKind, _ record: JobRecord) -> Event? {
        guard !record.transient, events.isClustered else { return nil }
        return Self.event(kind, record)
    }

    /// A change with no row (progress): published here, and sent to the other nodes with the journal's next
    /// transaction, after the job's earlier events.
    func announceProgress(_ record: JobRecord) {
        let event = clusterEvent(.changed, record)
        if let event { journal.stage(announcing: event) }
        announce(.changed, record, made: event)
    }

    static func event(_ kind: EventKind, _ record: JobRecord) -> Event {
        Event(name: eventName, kind: kind, id: .int(record.id), fields: record.json, owner: record.owner)
    }

}
