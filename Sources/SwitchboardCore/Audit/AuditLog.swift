import Logging
import Synchronization

/// The audit trail: records are queued without waiting (a call never waits for the audit write) and one
/// writer task commits them in batches, one transaction per batch, within milliseconds. A daemon killed with
/// SIGKILL can lose at most the batch being written; an orderly shutdown flushes everything.
///
/// The queue is bounded (`Limits.maxPending`): if the datastore stalls, further records are counted and
/// dropped, and the count is itself written as an `AUDIT_OVERFLOW` record once the datastore answers again.
/// Retention (age and row count) is applied by the writer every `retentionInterval` records.
public final class AuditLog: Sendable {
    public struct Limits: Sendable, Equatable {
        public var enabled = true
        /// Records older than this are deleted.
        public var retention: Duration = .seconds(30 * 86_400)
        /// At most this many records are kept; the oldest go first.
        public var maxRecords = 100_000
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
    ])

    enum Command: Sendable {
        case records
        case flush(CheckedContinuation<Void, Never>)
    }

    struct State {
        var pending: [AuditRecord] = []
        var dropped = 0
        var rung = false
        var nextID: Int64 = 1
        var sinceRetention = 0
    }

    public let limits: Limits
    let datastore: any Datastore
    let logger: Logger
    private let state = Mutex(State())
    private let commands: AsyncStream<Command>
    private let continuation: AsyncStream<Command>.Continuation
    /// How many written records between two retention passes: a tenth of the count limit, at most 1,000, so
    /// the table never holds more than 10 % over its limit.
    var retentionInterval: Int { max(1, min(1_000, limits.maxRecords / 10)) }

    public init(datastore: any Datastore, limits: Limits = Limits(), logger: Logger) {
        self.datastore = datastore
        self.limits = limits
        self.logger = logger
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
        let next = (last[0]?["id"]?.intValue ?? 0) + 1
        state.withLock { $0.nextID = next }
        try await applyRetention()
    }

    /// Queues a record; never waits.
    public func record(_ record: AuditRecord) {
        guard limits.enabled else { return }
        let ring = state.withLock { state -> Bool in
            if state.pending.count >= limits.maxPending {
                state.dropped += 1
                return false
            }
            state.pending.append(record)
            if state.rung { return false }
            state.rung = true
            return true
        }
        if ring { continuation.yield(.records) }
    }

    /// Returns once every record queued before the call is stored (or failed to be).
    public func flush() async {
        guard limits.enabled else { return }
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
        let (batch, dropped, firstID) = state.withLock { state -> ([AuditRecord], Int, Int64) in
            let batch = state.pending
            let dropped = state.dropped
            state.pending.removeAll(keepingCapacity: true)
            state.dropped = 0
            state.rung = false
            let first = state.nextID
            state.nextID += Int64(batch.count + (dropped > 0 ? 1 : 0))
            return (batch, dropped, first)
        }
        guard !batch.isEmpty || dropped > 0 else { return }
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
            state.sinceRetention += rows.count
            guard state.sinceRetention >= retentionInterval else { return false }
            state.sinceRetention = 0
            return true
        }
        if due {
            do { try await applyRetention() } catch { logger.error("audit retention failed: \(error)") }
        }
    }

    /// Deletes records beyond the count limit and past the age limit, oldest first, in bounded batches.
    ///
    /// Records are appended in time order, so expired records are the oldest ids: a pass reads the oldest row
    /// and, only when something is due, id ranges of `batch` rows from there until a range holds nothing
    /// expired. It never reads the whole table: a filter on `time_ms` alone scanned every row, every 1,000
    /// records written, which at 100,000 kept records cost more than the writes.
    func applyRetention(batch: Int64 = 10_000) async throws {
        let cutoff = Session.wallClockMillis - limits.retention.nanoseconds / 1_000_000
        let lastID = state.withLock { $0.nextID } - 1
        let countBound = lastID - Int64(limits.maxRecords)
        var oldest = QueryOptions()
        oldest.select = [.init(field: QueryPath("id"), name: nil), .init(field: QueryPath("time_ms"), name: nil)]
        oldest.orderBy = [.init(field: QueryPath("id"), descending: false, nullsFirst: nil)]
        oldest.limit = 1
        guard let first = try await datastore.query(Self.table, filters: [], options: oldest)[0],
              let firstID = first["id"]?.intValue else { return }
        let ageDue = (first["time_ms"]?.intValue ?? 0) < cutoff
        guard ageDue || firstID <= countBound else { return }
        var from = firstID
        while from <= lastID {
            let range: [QueryFilter] = [
                .condition(.init(field: QueryPath("id"), op: .greaterOrEqual, value: .int(from))),
                .condition(.init(field: QueryPath("id"), op: .less, value: .int(from + batch))),
            ]
            // Up to the count bound everything goes; beyond it, what is past the age limit.
            let overCount = from <= countBound
            let expiry: QueryFilter = overCount
                ? .condition(.init(field: QueryPath("id"), op: .lessOrEqual, value: .int(countBound)))
                : .condition(.init(field: QueryPath("time_ms"), op: .less, value: .int(cutoff)))
            var options = QueryOptions()
            options.select = [.init(field: QueryPath("id"), name: nil)]
            let ids = (try await datastore.query(Self.table, filters: range + [expiry], options: options).arrayValue ?? [])
                .compactMap { $0["id"]?.intValue }
            if !ids.isEmpty { try await datastore.commit(Self.table, upserts: [], deletes: ids) }
            if overCount {
                // The rest of this range may still be past the age limit: look at it again by age.
                from = min(from + batch, countBound + 1)
                continue
            }
            if ids.isEmpty { return }
            from += batch
        }
    }
}
