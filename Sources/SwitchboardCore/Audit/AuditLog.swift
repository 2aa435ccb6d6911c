import Logging
import Synchronization

/// The audit trail: records are queued without waiting (a call never waits for the audit write) and one
/// writer task commits them in batches, one transaction per batch, within milliseconds. A daemon killed with
/// SIGKILL can lose at most the batch being written; an orderly shutdown flushes everything.
///
/// The queue is bounded (`Limits.maxPending`): if the datastore stalls, further records are counted and
/// dropped, and the count is itself written as an `AUDIT_OVERFLOW` record once the datastore answers again.
/// Retention (age and row count) is applied by the writer every `retentionInterval` records.
///
/// No caller's volume can erase what others did: records of FULL_ADMIN's actions are kept apart (the count limit
/// applies to them and to everyone else's separately), and every other caller has a quota per interval beyond
/// which its records are summarised (`AuditSummaries`). When the count limit drops records younger than the age
/// limit, an alert says the trail covers less time than configured (`Alerts`).
public final class AuditLog: Sendable {
    public struct Limits: Sendable, Equatable {
        public var enabled = true
        /// Records older than this are deleted.
        public var retention: Duration = .seconds(30 * 86_400)
        /// At most this many records are kept of FULL_ADMIN's actions, and as many of everyone else's; the
        /// oldest go first.
        public var maxRecords = 100_000
        /// Records one caller (not FULL_ADMIN) has written one by one per `callerInterval`; beyond, summarised.
        public var maxRecordsPerCaller = 600
        public var callerInterval: Duration = .seconds(60)
        /// Records waiting for the writer at most.
        public var maxPending = 50_000

        public init() {}
    }

    public static let table = TableDefinition("audit", columns: [
        .init("event", .text, nullable: false),
        .init("time_ms", .integer, nullable: false),
        .init("session", .text),
        .init("username", .text),
        .init("address", .text),
        .init("dialect", .text),
        .init("method", .text),
        .init("arguments", .json),
        .init("success", .boolean),
        .init("errno", .integer),
        .init("error", .text),
        .init("privileged", .boolean, default: false),
    ])

    enum Command: Sendable {
        case records
        case flush(CheckedContinuation<Void, Never>)
    }

    struct State {
        var pending: [AuditRecord] = []
        var dropped = 0
        var rung = false
        var sinceRetention = 0
        var summaries: AuditSummaries
        var lastDrain: Int64 = 0
        /// Stored records by class (privileged or not), for the count limit of each.
        var counts: [Bool: Int] = [:]
    }

    public let limits: Limits
    let datastore: any Datastore
    let logger: Logger
    let alerts: Alerts?
    private let state: Mutex<State>
    /// Record ids, unique across the nodes sharing the datastore.
    let ids: IDReservation
    private let commands: AsyncStream<Command>
    private let continuation: AsyncStream<Command>.Continuation
    /// How many written records between two retention passes: a tenth of the count limit, at most 1,000, so
    /// the table never holds more than 10 % over its limit.
    var retentionInterval: Int { max(1, min(1_000, limits.maxRecords / 10)) }

    public init(datastore: any Datastore, limits: Limits = Limits(), logger: Logger, alerts: Alerts? = nil) {
        self.datastore = datastore
        self.limits = limits
        self.logger = logger
        self.alerts = alerts
        self.ids = IDReservation(datastore: datastore, sequence: Self.table.name, blockSize: 1_000)
        self.state = Mutex(State(summaries: AuditSummaries(limit: limits.maxRecordsPerCaller,
                                                           intervalMillis: limits.callerInterval.nanoseconds / 1_000_000)))
        (commands, continuation) = AsyncStream.makeStream(of: Command.self)
    }

    public var isEnabled: Bool { limits.enabled }

    /// Prepares the table and learns the next record id; then `run()` writes.
    public func start() async throws {
        guard limits.enabled else { return }
        try await datastore.prepare(Self.table)
        var options = QueryOptions()
        options.orderBy = [.init(field: QueryPath("id"), descending: true, nullsFirst: nil)]
        options.limit = 1
        let last = try await datastore.query(Self.table, filters: [], options: options)
        ids.start(above: last[0]?["id"]?.intValue ?? 0)
        try await recount()
        try await applyRetention()
    }

    /// Queues a record; never waits.
    public func record(_ record: AuditRecord) {
        guard limits.enabled else { return }
        let ring = state.withLock { state -> Bool in
            var summaries: [AuditRecord] = []
            let admitted = state.summaries.admit(record, into: &summaries)
            for record in summaries + (admitted ? [record] : []) {
                if state.pending.count >= limits.maxPending {
                    state.dropped += 1
                } else {
                    state.pending.append(record)
                }
            }
            guard admitted || !summaries.isEmpty else { return false }
            if state.rung { return false }
            state.rung = true
            return true
        }
        if ring { continuation.yield(.records) }
    }

    /// Returns once every record queued before the call is stored (or failed to be).
    public func flush() async {
        guard limits.enabled else { return }
        // Summaries so far are part of what a reader asks for now.
        state.withLock { state in state.pending += state.summaries.drain(now: Session.wallClockMillis, force: true) }
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            if case .terminated = continuation.yield(.flush(waiter)) { waiter.resume() }
        }
    }

    /// The writer: runs until `finish()`, then writes what is left.
    public func run() async {
        for await command in commands {
            await writePending()
            if case .flush(let waiter) = command { waiter.resume() }
        }
        await writePending()
    }

    /// Ends `run()` after it has written what is queued.
    public func finish() {
        continuation.finish()
    }

    func writePending() async {
        let (batch, dropped) = state.withLock { state -> ([AuditRecord], Int) in
            // Callers whose interval has ended get their summary now (looked at once a second at most).
            let now = Session.wallClockMillis
            if now - state.lastDrain >= 1_000 {
                state.lastDrain = now
                state.pending += state.summaries.drain(now: now)
            }
            let batch = state.pending
            let dropped = state.dropped
            state.pending.removeAll(keepingCapacity: true)
            state.dropped = 0
            state.rung = false
            return (batch, dropped)
        }
        guard !batch.isEmpty || dropped > 0 else { return }
        let firstID: Int64
        do {
            firstID = try await ids.take(Int64(batch.count + (dropped > 0 ? 1 : 0))).lowerBound
        } catch {
            logger.error("audit records could not be numbered", metadata: ["count": .string("\(batch.count)"), "error": .string("\(error)")])
            return
        }
        var rows: [JSONObject] = []
        rows.reserveCapacity(batch.count + 1)
        var id = firstID
        if dropped > 0 {
            let note = AuditRecord(event: "AUDIT_OVERFLOW", timeMillis: Session.wallClockMillis, session: "", username: nil,
                                   address: "internal", dialect: "internal", method: "", arguments: ["dropped": .int(Int64(dropped))],
                                   success: false, error: "\(dropped) audit records were dropped: the datastore did not keep up")
            rows.append(note.row(id: id))
            id += 1
            logger.error("audit records dropped", metadata: ["count": .string("\(dropped)")])
        }
        for record in batch {
            rows.append(record.row(id: id))
            id += 1
        }
        do {
            try await datastore.commit(Self.table, upserts: rows, deletes: [])
        } catch {
            logger.error("audit records could not be stored", metadata: ["count": .string("\(rows.count)"), "error": .string("\(error)")])
            return
        }
        let due = state.withLock { state -> Bool in
            for row in rows { state.counts[row["privileged"]?.boolValue ?? false, default: 0] += 1 }
            state.sinceRetention += rows.count
            guard state.sinceRetention >= retentionInterval else { return false }
            state.sinceRetention = 0
            return true
        }
        if due {
            do { try await applyRetention() } catch { logger.error("audit retention failed: \(error)") }
        }
    }

    /// Counts the stored records of each class (at start, and after age deletions, which do not know classes).
    func recount() async throws {
        var options = QueryOptions()
        options.count = true
        var counts: [Bool: Int] = [:]
        for privileged in [true, false] {
            let filter = QueryFilter.equal("privileged", .bool(privileged))
            counts[privileged] = Int(try await datastore.query(Self.table, filters: [filter], options: options).intValue ?? 0)
        }
        state.withLock { $0.counts = counts }
    }

    /// Deletes records past the age limit, then those beyond the count limit of their class, oldest first, in
    /// bounded batches.
    func applyRetention(batch: Int = 10_000) async throws {
        let cutoff = Session.wallClockMillis - limits.retention.nanoseconds / 1_000_000
        if try await deleteExpired(cutoff: cutoff, batch: Int64(batch)) { try await recount() }
        for privileged in [true, false] {
            while true {
                let excess = state.withLock { $0.counts[privileged, default: 0] } - limits.maxRecords
                guard excess > 0 else { break }
                var options = QueryOptions()
                options.select = [.init(field: QueryPath("id"), name: nil), .init(field: QueryPath("time_ms"), name: nil)]
                options.orderBy = [.init(field: QueryPath("id"), descending: false, nullsFirst: nil)]
                options.limit = min(excess, batch)
                let rows = try await datastore.query(Self.table, filters: [.equal("privileged", .bool(privileged))], options: options).arrayValue ?? []
                let ids = rows.compactMap { $0["id"]?.intValue }
                guard !ids.isEmpty else { break }
                try await datastore.commit(Self.table, upserts: [], deletes: ids)
                state.withLock { $0.counts[privileged, default: 0] -= ids.count }
                let young = rows.filter { ($0["time_ms"]?.intValue ?? 0) >= cutoff }.count
                if young > 0 {
                    alerts?.raise(privileged ? "audit.retention.privileged" : "audit.retention",
                                  "the audit trail is dropping records younger than audit.retention-days: audit.max-records was reached",
                                  details: ["dropped": .int(Int64(young)), "max_records": .int(Int64(limits.maxRecords)),
                                            "class": .string(privileged ? "FULL_ADMIN" : "others")])
                }
            }
        }
    }

    /// Deletes the records past the age limit; true when it deleted any.
    ///
    /// Records are appended in time order, so expired records are the oldest ids: a pass reads the oldest row
    /// and, only when it is expired, id ranges of `batch` rows from there until a range holds nothing expired.
    /// It never reads the whole table: a filter on `time_ms` alone scanned every row, every 1,000 records
    /// written, which at 100,000 kept records cost more than the writes.
    func deleteExpired(cutoff: Int64, batch: Int64) async throws -> Bool {
        var oldest = QueryOptions()
        oldest.select = [.init(field: QueryPath("id"), name: nil), .init(field: QueryPath("time_ms"), name: nil)]
        oldest.orderBy = [.init(field: QueryPath("id"), descending: false, nullsFirst: nil)]
        oldest.limit = 1
        guard let first = try await datastore.query(Self.table, filters: [], options: oldest)[0],
              let firstID = first["id"]?.intValue, (first["time_ms"]?.intValue ?? 0) < cutoff else { return false }
        let lastID = ids.highest
        var from = firstID
        var deleted = false
        while from <= lastID {
            let range: [QueryFilter] = [
                .condition(.init(field: QueryPath("id"), op: .greaterOrEqual, value: .int(from))),
                .condition(.init(field: QueryPath("id"), op: .less, value: .int(from + batch))),
                .condition(.init(field: QueryPath("time_ms"), op: .less, value: .int(cutoff))),
            ]
            var options = QueryOptions()
            options.select = [.init(field: QueryPath("id"), name: nil)]
            let ids = (try await datastore.query(Self.table, filters: range, options: options).arrayValue ?? []).compactMap { $0["id"]?.intValue }
            if ids.isEmpty { break }
            try await datastore.commit(Self.table, upserts: [], deletes: ids)
            deleted = true
            from += batch
        }
        return deleted
    }
}
