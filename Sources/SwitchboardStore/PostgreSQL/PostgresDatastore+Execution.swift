import Foundation
import NIOCore
import PostgresNIO
import SwitchboardCore

/// How every operation reaches the server: within the datastore's deadline, with PostgreSQL's errors turned
/// into the errors `SQLiteDatastore` gives for the same cause.
extension PostgresDatastore {
    /// Runs `body` with a pooled connection, failing with ETIMEDOUT when the pool has none to give or the server
    /// does not answer within `timeout` (the pool otherwise queues a request for as long as the server is away).
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await deadline {
            try await self.client.withConnection { connection in try await body(connection) }
        }
    }

    /// Runs `body` in one transaction: when it returns every change is stored, when it throws none is.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await deadline {
            try await self.client.withConnection { connection in
                try await connection.query("BEGIN", logger: self.logger)
                do {
                    let result = try await body(connection)
                    try await connection.query("COMMIT", logger: self.logger)
                    return result
                } catch {
                    // A connection that cannot roll back (the call was cancelled mid-statement) would go back to
                    // the pool inside this transaction: it is closed instead, and the pool opens another.
                    if (try? await connection.query("ROLLBACK", logger: self.logger)) == nil {
                        let closing: EventLoopFuture<Void> = connection.close()
                        closing.whenComplete { _ in }
                    }
                    throw error
                }
            }
        }
    }

    /// Runs one statement (`?` placeholders) in the transaction of `connection` and returns its rows.
    func rows(_ sql: String, _ values: [SQLValue?], on connection: PostgresConnection) async throws -> [PostgresRow] {
        try await connection.query(Self.query(sql, values), logger: logger).collect()
    }

    /// Runs one statement (`?` placeholders) on a pooled connection and returns its rows.
    func rows(_ sql: String, _ values: [SQLValue?]) async throws -> [PostgresRow] {
        try await rows(Self.query(sql, values))
    }

    /// Runs one statement with its own bindings (arrays, for `unnest`) on a pooled connection.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await deadline {
            try await self.client.query(query, logger: self.logger).collect()
        }
    }

    private func deadline<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let limit = timeout
        let server = dsn.redacted
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    try await Task.sleep(for: limit)
                    return nil
                }
                defer { group.cancelAll() }
                if let first = try await group.next(), let value = first { return value }
                group.cancelAll()
                let why = await self.unavailability()
                throw CallError(Errno.ETIMEDOUT, "The datastore did not answer within \(limit.components.seconds) s: PostgreSQL at \(server) "
                                + (why.map { "cannot be used: \($0)" } ?? "is overloaded"))
            }
        } catch let error as CallError {
            throw error
        } catch let error as ChangeRefused {
            // The relay reruns its batch without the refused change: it must see which one it was.
            throw error
        } catch let error as PSQLError {
            throw Self.callError(error, server: server)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // The pool's own errors (its circuit breaker, open after a minute without a connection) and the rest.
            throw CallError(Errno.EIO, "The datastore is unavailable: PostgreSQL at \(server): \(error)")
        }
    }

    /// Why the server cannot be used now, by a probe run at most once a second however many calls ask.
    private func unavailability() async -> String? {
        let now = ContinuousClock.now
        if let last = lastProbe.withLock({ $0 }), last.at.duration(to: now) < .seconds(1) { return last.reason }
        let reason = await Self.probe(dsn, timeout: min(timeout, .seconds(2)), logger: logger)
        lastProbe.withLock { $0 = (ContinuousClock.now, reason) }
        return reason
    }

    /// A statement with `?` placeholders as PostgreSQL's numbered ones. Identifiers are checked and values are
    /// bound, so a `?` in the text is always a placeholder.
    static func query(_ sql: String, _ values: [SQLValue?]) -> PostgresQuery {
        var numbered = ""
        numbered.reserveCapacity(sql.utf8.count + values.count * 2)
        var index = 0
        for character in sql {
            if character == "?" {
                index += 1
                numbered += "$\(index)"
            } else {
                numbered.append(character)
            }
        }
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            if let value { value.bind(into: &bindings) } else { bindings.appendNull() }
        }
        return PostgresQuery(unsafeSQL: numbered, binds: bindings)
    }

    /// PostgreSQL's error as the one a client gets from SQLite for the same cause: EEXIST with the column for a
    /// unique clash, EINVAL for another constraint, EIO otherwise, each with the server's message and never the
    /// DSN's password.
    static func callError(_ error: PSQLError, server: String) -> CallError {
        guard let info = error.serverInfo else {
            return CallError(Errno.EIO, "The datastore is unavailable: PostgreSQL at \(server): \(error.code)")
        }
        let state = info[.sqlState] ?? ""
        let message = info[.message] ?? "\(error.code)"
        if state == "23505" {
            // DETAIL: Key (username)=(bob) already exists.
            let detail = info[.detail] ?? ""
            var column = ""
            if let open = detail.firstIndex(of: "("), let close = detail[open...].firstIndex(of: ")") {
                column = String(detail[detail.index(after: open)..<close])
            }
            return CallError(Errno.EEXIST, "An entry with this \(column) already exists", extra: ["column": .string(column)])
        }
        if state.hasPrefix("23") {
            return CallError(Errno.EINVAL, "Constraint failed: \(message)")
        }
        return CallError(Errno.EIO, "Datastore error: \(message) (SQLSTATE \(state))")
    }
}
