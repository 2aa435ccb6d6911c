import DequeModule
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import SwitchboardCore

/// The relay's tables and its four loops: the writer (group commit of queued events), the LISTEN connection
/// (the doorbell), the reader (forward from each origin's cursor) and the pruner.
extension PostgresEventRelay {
    func prepareTables() async throws {
        try await datastore.transaction { connection in
            _ = try await self.datastore.rows("SELECT pg_advisory_xact_lock(?)", [.integer(PostgresDatastore.schemaLock)], on: connection)
            _ = try await self.datastore.rows("""
                CREATE TABLE IF NOT EXISTS switchboard_cluster_heads (origin TEXT PRIMARY KEY, seq BIGINT NOT NULL)
                """, [], on: connection)
            _ = try await self.datastore.rows("""
                CREATE TABLE IF NOT EXISTS switchboard_cluster_events (
                    origin TEXT NOT NULL, seq BIGINT NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT now(),
                    name TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, fields TEXT NOT NULL, extra TEXT NOT NULL,
                    owner TEXT NOT NULL, PRIMARY KEY (origin, seq))
                """, [], on: connection)
            _ = try await self.datastore.rows("""
                CREATE INDEX IF NOT EXISTS switchboard_cluster_events_at ON switchboard_cluster_events (at)
                """, [], on: connection)
        }
    }

    /// Every origin's last number now: where this node starts reading (it does not replay the past).
    func heads() async throws -> [String: Int64] {
        var cursors: [String: Int64] = [:]
        for row in try await datastore.rows("SELECT origin, seq FROM switchboard_cluster_heads", []) {
            let (origin, seq) = try row.decode((String, Int64).self)
            cursors[origin] = seq
        }
        return cursors
    }

    // MARK: - Writing

    func write() async {
        for await _ in writerBell.stream {
            while !Task.isCancelled {
                let batch = outbox.withLock { state -> [Outgoing] in Array(state.queue.prefix(settings.batchSize)) }
                guard !batch.isEmpty else { break }
                let outcomes: [Result<Applied?, any Error>]
                do {
                    outcomes = try await store(batch)
                } catch {
                    // The changes in the batch were undone with it: their callers hear why now. The events stay
                    // queued (within the bound) and are tried again: the database may be back soon.
                    let changes = outbox.withLock { state -> [Change] in
                        var changes: [Change] = []
                        var kept = Deque<Outgoing>()
                        for item in state.queue.prefix(batch.count) {
                            if case .change(let change) = item { changes.append(change) } else { kept.append(item) }
                        }
                        state.queue.removeFirst(batch.count)
                        state.queue.insert(contentsOf: kept, at: 0)
                        state.done += Int64(changes.count)
                        return changes
                    }
                    for change in changes { change.done.resume(throwing: error) }
                    finishFlushes()
                    logger.warning("cluster events not stored yet", metadata: ["events": .stringConvertible(batch.count - changes.count), "reason": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                    continue
                }
                outbox.withLock { state in
                    state.queue.removeFirst(batch.count)
                    state.done += Int64(batch.count)
                }
                var results = outcomes.makeIterator()
                for item in batch {
                    guard case .change(let change) = item, let outcome = results.next() else { continue }
                    change.done.resume(with: outcome)
                }
                finishFlushes()
            }
        }
    }

    /// Resumes the flushes whose items are all done.
    func finishFlushes() {
        let finished = outbox.withLock { state -> [CheckedContinuation<Void, any Error>] in
            let done = state.done
            let finished = state.flushes.filter { $0.target <= done }.map(\.continuation)
            state.flushes.removeAll { $0.target <= done }
            return finished
        }
        for continuation in finished { continuation.resume() }
    }

    /// One transaction: the changes, then the next numbers for the events, changes' included, in queue order (the
    /// head row stays locked until commit, so this node's batches commit in number order), the rows, and the
    /// doorbell. A batch of events alone is one statement, atomic by itself: one round trip.
    ///
    /// Changes run without savepoints (two round trips each saved): a change the server refuses (a unique clash, a
    /// constraint) aborts the transaction, which runs again without it, its caller told. Refusals are rare and
    /// each costs one rerun of the batch.
    /// - Returns: each change's outcome, in order.
    func store(_ batch: [Outgoing]) async throws -> [Result<Applied?, any Error>] {
        let origin = nodeName
        let server = datastore.dsn.redacted
        let hasChanges = batch.contains { if case .change = $0 { return true } else { return false } }
        if !hasChanges {
            let events = batch.compactMap { item -> Event? in if case .event(let event) = item { return event } else { return nil } }
            try await datastore.withConnection { connection in try await self.insert(events, origin: origin, on: connection) }
            return []
        }
        var refused: [Int: any Error] = [:]
        while true {
            let skipped = Set(refused.keys)
            let made: [Int: Applied?]
            do {
                made = try await datastore.transaction { connection in
                    var events: [Event] = []
                    events.reserveCapacity(batch.count)
                    var made: [Int: Applied?] = [:]
                    for (index, item) in batch.enumerated() {
                        switch item {
                        case .event(let event):
                            events.append(event)
                        case .change(let change):
                            guard !skipped.contains(index) else { continue }
                            do {
                                let result = try await change.apply(connection)
                                made[index] = result
                                if let result { events.append(contentsOf: result.events) }
                            } catch let error as PSQLError where error.serverInfo != nil {
                                throw ChangeRefused(index: index, error: PostgresDatastore.callError(error, server: server))
                            } catch let error as CallError {
                                throw ChangeRefused(index: index, error: error)
                            }
                        }
                    }
                    if !events.isEmpty { try await self.insert(events, origin: origin, on: connection) }
                    return made
                }
            } catch let refusal as ChangeRefused {
                refused[refusal.index] = refusal.error
                continue
            }
            var outcomes: [Result<Applied?, any Error>] = []
            for (index, item) in batch.enumerated() {
                guard case .change = item else { continue }
                if let error = refused[index] {
                    outcomes.append(.failure(error))
                } else {
                    outcomes.append(.success(made[index].flatMap { $0 }))
                }
            }
            return outcomes
        }
    }

    /// Numbers `events` after the origin's head, inserts them and rings the doorbell, in one statement (its own
    /// transaction, or the caller's): the head row's update locks it until commit.
    func insert(_ events: [Event], origin: String, on connection: PostgresConnection) async throws {
        var names: [String] = [], kinds: [String] = [], ids: [String] = [], fields: [String] = [], extras: [String] = [], owners: [String] = []
        for event in events {
            names.append(event.name)
            kinds.append(event.kind.rawValue)
            ids.append(event.id.encodedString())
            fields.append(event.fields.encodedString())
            extras.append(event.extra.encodedString())
            // No owner is the empty name: no user has it.
            owners.append(event.owner ?? "")
        }
        var binds = PostgresBindings(capacity: 9)
        binds.append(origin)
        binds.append(Int64(events.count))
        for column in [names, kinds, ids, fields, extras, owners] { binds.append(column) }
        binds.append(Self.channel)
        // Data-modifying CTEs run exactly once whether or not the final SELECT reads them; it reads both so
        // that the doorbell is rung by the statement that stored the rows.
        try await connection.query(PostgresQuery(unsafeSQL: """
            WITH head AS (
                INSERT INTO switchboard_cluster_heads (origin, seq) VALUES ($1, $2)
                ON CONFLICT (origin) DO UPDATE SET seq = switchboard_cluster_heads.seq + EXCLUDED.seq RETURNING seq
            ), stored AS (
                INSERT INTO switchboard_cluster_events (origin, seq, name, kind, id, fields, extra, owner)
                SELECT $1, (SELECT seq FROM head) - $2 + t.ord, t.n, t.k, t.i, t.f, t.x, t.o
                FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) WITH ORDINALITY AS t(n, k, i, f, x, o, ord)
                RETURNING 1
            )
            SELECT pg_notify($9, $1), (SELECT count(*) FROM stored)
            """, binds: binds), logger: logger).collect()
    }

    // MARK: - The doorbell

    /// Keeps one LISTEN connection open, reconnecting after a second when it drops; each notification rings the
    /// reader (and answers the doorbell check at start).
    func listen() async {
        let dsn = settings.listenDSN ?? datastore.dsn
        while !Task.isCancelled {
            do {
                let connection = try await datastore.connectOwn(to: dsn, suffix: " listen")
                // The connection is released only once its channel is closed, however LISTEN ended: postgres-nio
                // asserts that no connection is deinitialized while its channel is still closing.
                defer {
                    let closing: EventLoopFuture<Void> = connection.close()
                    closing.whenComplete { _ in withExtendedLifetime(connection) {} }
                }
                try await withTaskCancellationHandler {
                    try await connection.listen(on: Self.channel) { notifications in
                        // Anything sent while the connection was down is read now.
                        readerBell.continuation.yield()
                        for try await notification in notifications {
                            if notification.payload.hasPrefix("check:") {
                                pendingCheck.withLock { pending in
                                    if pending?.token == notification.payload { pending?.heard.yield() }
                                }
                            } else {
                                readerBell.continuation.yield()
                            }
                        }
                    }
                } onCancel: {
                    let closing: EventLoopFuture<Void> = connection.close()
                    closing.whenComplete { _ in }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("cluster LISTEN connection lost; polling until it is back", metadata: ["reason": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    // MARK: - Reading

    func read(from start: [String: Int64], deliver: @escaping @Sendable ([ClusterEvent]) -> Void) async {
        var cursors = start
        for await _ in readerBell.stream {
            while !Task.isCancelled {
                let batch: [ClusterEvent]
                do {
                    batch = try await fetch(after: cursors)
                } catch {
                    logger.warning("cluster events not read", metadata: ["reason": "\(error)"])
                    break
                }
                guard !batch.isEmpty else { break }
                for event in batch {
                    let expected = (cursors[event.origin] ?? 0) + 1
                    if event.sequence > expected {
                        logger.error("cluster events missed: pruned before this node read them",
                                     metadata: ["origin": .string(event.origin), "missed": .stringConvertible(event.sequence - expected)])
                    }
                    cursors[event.origin] = event.sequence
                }
                deliver(batch)
                if batch.count < settings.batchSize { break }
            }
        }
    }

    func fetch(after cursors: [String: Int64]) async throws -> [ClusterEvent] {
        var binds = PostgresBindings(capacity: 4)
        binds.append(Array(cursors.keys))
        binds.append(Array(cursors.values))
        binds.append(nodeName)
        binds.append(Int64(settings.batchSize))
        let query = PostgresQuery(unsafeSQL: """
            WITH c(origin, seq) AS (SELECT * FROM unnest($1::text[], $2::bigint[]))
            SELECT e.origin, e.seq, e.name, e.kind, e.id, e.fields, e.extra, e.owner
            FROM switchboard_cluster_events e LEFT JOIN c ON c.origin = e.origin
            WHERE e.origin <> $3 AND e.seq > COALESCE(c.seq, 0)
            ORDER BY e.origin, e.seq LIMIT $4
            """, binds: binds)
        let rows = try await datastore.rows(query)
        return try rows.map { row in
            let (origin, seq, name, kind, id, fields, extra, owner) = try row.decode((String, Int64, String, String, String, String, String, String).self)
            let event = Event(name: name, kind: EventKind(rawValue: kind) ?? .changed, id: (try? JSON.parse(id)) ?? .null,
                              fields: (try? JSON.parse(fields)) ?? .null, extra: (try? JSON.parse(extra)) ?? .null,
                              owner: owner.isEmpty ? nil : owner)
            return ClusterEvent(origin: origin, sequence: seq, event: event)
        }
    }

    // MARK: - Pruning

    /// Deletes rows older than the retention, every minute (any node may; deleting twice is harmless).
    func prune() async {
        while !Task.isCancelled {
            do {
                try await pruneOnce(olderThan: settings.retention)
            } catch {
                logger.warning("cluster events not pruned", metadata: ["reason": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(60))
        }
    }

    func pruneOnce(olderThan age: Duration) async throws {
        _ = try await datastore.rows("DELETE FROM switchboard_cluster_events WHERE at < now() - make_interval(secs => ?)",
                                     [.real(Double(age.nanoseconds) / 1e9)])
    }
}
