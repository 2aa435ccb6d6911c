import OrderedCollections
import Synchronization

/// Group commit for job state: every change handed in while a transaction is being written goes into the
/// next one, and each caller returns only once the transaction holding its change has committed.
///
/// One transaction per state change costs a writer hop, BEGIN and COMMIT each; under load, hundreds of
/// changes now share them. Durability is unchanged: a caller still announces a state only after it is
/// stored. Changes to one job in one batch collapse to its newest row (rows are whole), and the batches are
/// written one at a time, in order, so a newer row never lands before an older one.
///
/// Rows are kept as they were handed in and turned into values only when their batch is written, so a row
/// that a newer one supersedes in the same batch (a short job's RUNNING row) costs nothing.
///
/// In a cluster the job events for the other nodes travel here too, in the order they were handed in: each
/// batch's events commit in its transaction (`Datastore.commit(…, announcing:)`), so another node never hears
/// of a state whose row is not stored, and never misses one that is. Events of a batch that fails are dropped
/// with it: they announce changes that were not stored.
final class JobJournal: Sendable {
    enum Row: Sendable {
        /// Named columns (a partial row is allowed).
        case object(JSONObject)
        /// A whole job, written by position.
        case record(JobRecord)
    }

    struct State {
        var upserts = OrderedDictionary<Int64, Row>()
        var deletes = OrderedSet<Int64>()
        /// Events for the other nodes, in the order handed in (never collapsed: each announces a change).
        var events: [Event] = []
        var waiters: [CheckedContinuation<Void, any Error>] = []
        var writing = false
    }

    private let datastore: any Datastore
    private let table: TableDefinition
    /// Sends the events of a batch the datastore did not store with it (it relays no cluster's events).
    private let unrelayed: @Sendable ([Event]) -> Void
    private let state = Mutex(State())

    init(datastore: any Datastore, table: TableDefinition, unrelayed: @escaping @Sendable ([Event]) -> Void = { _ in }) {
        self.datastore = datastore
        self.table = table
        self.unrelayed = unrelayed
    }

    /// Changes waiting for the next transaction (callers not yet returned, beyond the one being written).
    var pendingChanges: Int { state.withLock { $0.waiters.count } }

    /// Stores the whole row of job `id`; returns once it is committed.
    func write(_ id: Int64, _ row: JSONObject) async throws {
        try await write(id, .object(row))
    }

    /// Stores the job's row, and `event` for the other nodes with it; returns once it is committed.
    func write(_ record: JobRecord, announcing event: Event? = nil) async throws {
        try await write(record.id, .record(record), event)
    }

    private func write(_ id: Int64, _ row: Row, _ event: Event? = nil) async throws {
        try await submit { state in
            state.deletes.remove(id)
            state.upserts[id] = row
            if let event { state.events.append(event) }
        }
    }

    /// Stores the job's row (and `event` for the other nodes) with the next transaction, without waiting for
    /// it: for states that need not be durable before the caller goes on. A later `write` of the same job
    /// supersedes the row.
    func stage(_ record: JobRecord, announcing event: Event? = nil) {
        stage(record.id, .record(record), event)
    }

    func stage(_ id: Int64, _ row: JSONObject) {
        stage(id, .object(row), nil)
    }

    /// Sends `event` to the other nodes with the next transaction, after the events handed in before it: a
    /// change with no row of its own (progress, or the `added` of a job whose WAITING row is skipped).
    func stage(announcing event: Event) {
        stage(nil, nil, event)
    }

    private func stage(_ id: Int64?, _ row: Row?, _ event: Event?) {
        let startWriter = state.withLock { state -> Bool in
            if let id, let row {
                state.deletes.remove(id)
                state.upserts[id] = row
            }
            if let event { state.events.append(event) }
            if state.writing { return false }
            state.writing = true
            return true
        }
        if startWriter { Task { await self.writeBatches() } }
    }

    /// Deletes the row of job `id`; returns once that is committed.
    func delete(_ id: Int64) async throws {
        try await submit { state in
            state.upserts.removeValue(forKey: id)
            state.deletes.append(id)
        }
    }

    private func submit(_ change: (inout State) -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let startWriter = state.withLock { state -> Bool in
                change(&state)
                state.waiters.append(continuation)
                if state.writing { return false }
                state.writing = true
                return true
            }
            if startWriter { Task { await self.writeBatches() } }
        }
    }

    /// Writes what is pending, then what arrived meanwhile, until nothing is left.
    private func writeBatches() async {
        while true {
            let batch = state.withLock { state -> (OrderedDictionary<Int64, Row>, OrderedSet<Int64>, [Event], [CheckedContinuation<Void, any Error>])? in
                if state.waiters.isEmpty && state.upserts.isEmpty && state.deletes.isEmpty && state.events.isEmpty {
                    state.writing = false
                    return nil
                }
                defer {
                    state.upserts = [:]
                    state.deletes = []
                    state.events = []
                    state.waiters = []
                }
                return (state.upserts, state.deletes, state.events, state.waiters)
            }
            guard let (upserts, deletes, events, waiters) = batch else { return }
            do {
                var objects: [JSONObject] = []
                var rows: [[JSON]] = []
                rows.reserveCapacity(upserts.count)
                for row in upserts.values {
                    switch row {
                    case .object(let object): objects.append(object)
                    case .record(let record): rows.append(record.columns)
                    }
                }
                let relayed = try await datastore.commit(table, upserts: objects, rows: rows, deletes: Array(deletes), announcing: events)
                if !relayed && !events.isEmpty { unrelayed(events) }
                for waiter in waiters { waiter.resume() }
            } catch {
                for waiter in waiters { waiter.resume(throwing: error) }
            }
        }
    }
}
