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
        var waiters: [CheckedContinuation<Void, any Error>] = []
        var writing = false
    }

    private let datastore: any Datastore
    private let table: TableDefinition
    private let state = Mutex(State())

    init(datastore: any Datastore, table: TableDefinition) {
        self.datastore = datastore
        self.table = table
    }

    /// Changes waiting for the next transaction (callers not yet returned, beyond the one being written).
    var pendingChanges: Int { state.withLock { $0.waiters.count } }

    /// Stores the whole row of job `id`; returns once it is committed.
    func write(_ id: Int64, _ row: JSONObject) async throws {
        try await write(id, .object(row))
    }

    /// Stores the job's row; returns once it is committed.
    func write(_ record: JobRecord) async throws {
        try await write(record.id, .record(record))
    }

    private func write(_ id: Int64, _ row: Row) async throws {
        try await submit { state in
            state.deletes.remove(id)
            state.upserts[id] = row
        }
    }

    /// Stores the job's row with the next transaction, without waiting for it: for states that need not be
    /// durable before the caller goes on. A later `write` of the same job supersedes it.
    func stage(_ record: JobRecord) {
        stage(record.id, .record(record))
    }

    func stage(_ id: Int64, _ row: JSONObject) {
        stage(id, .object(row))
    }

    private func stage(_ id: Int64, _ row: Row) {
        let startWriter = state.withLock { state -> Bool in
            state.deletes.remove(id)
            state.upserts[id] = row
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
            let batch = state.withLock { state -> (OrderedDictionary<Int64, Row>, OrderedSet<Int64>, [CheckedContinuation<Void, any Error>])? in
                if state.waiters.isEmpty && state.upserts.isEmpty && state.deletes.isEmpty {
                    state.writing = false
                    return nil
                }
                defer {
                    state.upserts = [:]
                    state.deletes = []
                    state.waiters = []
                }
                return (state.upserts, state.deletes, state.waiters)
            }
            guard let (upserts, deletes, waiters) = batch else { return }
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
                try await datastore.commit(table, upserts: objects, rows: rows, deletes: Array(deletes))
                for waiter in waiters { waiter.resume() }
            } catch {
                for waiter in waiters { waiter.resume(throwing: error) }
            }
        }
    }
}
