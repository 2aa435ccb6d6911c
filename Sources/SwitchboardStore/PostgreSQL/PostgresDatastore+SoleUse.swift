import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import SwitchboardCore

/// One daemon per database, until the cluster (issue 19) lands: two daemons on one database would each number
/// jobs from their own counter and overwrite each other's job rows. The first daemon holds a session-level
/// advisory lock on a connection of its own for as long as it runs; a second one is refused at start with the
/// first one named (PostgreSQL's `application_name` and client address).
extension PostgresDatastore {
    /// The advisory lock key of sole use ("SBSOLEUS").
    static let soleUseLock: Int64 = 0x5342_534F_4C45_5553

    /// Takes the database for this daemon alone, or throws EBUSY naming the daemon that has it.
    public func claimSoleUse() async throws {
        let connection: PostgresConnection
        do {
            connection = try await connectOwn(to: dsn)
        } catch let error as PSQLError {
            throw CallError(Errno.EIO, "Cannot use the PostgreSQL datastore at \(dsn.redacted): \(Self.reason(error))")
        }
        let query = PostgresQuery(unsafeSQL: "SELECT pg_try_advisory_lock($1)", binds: { var b = PostgresBindings(); b.append(Self.soleUseLock); return b }())
        let taken = try await connection.query(query, logger: logger).collect().first?.decode(Bool.self) ?? false
        guard taken else {
            let holder = try? await connection.query(PostgresQuery(unsafeSQL: """
                SELECT a.application_name, COALESCE(host(a.client_addr), 'local socket'), to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'advisory' AND l.granted AND (l.classid::bigint << 32 | l.objid::bigint) = \(Self.soleUseLock)
                """), logger: logger).collect().first?.decode((String, String, String).self)
            try? await connection.close()
            let who = holder.map { "\($0.0) (from \($0.1), since \($0.2))" } ?? "another daemon"
            throw CallError(Errno.EBUSY, "The PostgreSQL datastore at \(dsn.redacted) is in use by \(who): until clusters are supported, "
                            + "one Switchboard daemon per database")
        }
        soleUse.withLock { $0 = connection }
        connection.closeFuture.whenComplete { [logger, weak self] _ in
            guard let self, self.soleUse.withLock({ $0 != nil }) else { return }
            logger.error("the connection that keeps this daemon the only one on its database closed; another daemon could now start on it")
        }
    }
}
