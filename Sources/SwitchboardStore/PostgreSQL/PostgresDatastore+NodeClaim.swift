import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import SwitchboardCore

/// One daemon per node name on a database: the name is what a node's jobs, events and id blocks are filed
/// under, so two daemons sharing one would fail each other's jobs at start and interleave their event numbers.
/// The daemon holds a session-level advisory lock keyed by its name, on a connection of its own, for as long as
/// it runs; a second daemon with the same name is refused at start with the first one named (PostgreSQL's
/// `application_name` and client address). Daemons with different names share the database as a cluster.
extension PostgresDatastore {
    /// The advisory lock class of node names ("SBND"); the object is the name's `hashtext`.
    static let nodeLockClass: Int32 = 0x5342_4E44

    /// Takes `name` for this daemon, or throws EBUSY naming the daemon that has it.
    public func claimNode(_ name: String) async throws {
        let connection: PostgresConnection
        do {
            connection = try await connectOwn(to: dsn)
        } catch let error as PSQLError {
            throw CallError(Errno.EIO, "Cannot use the PostgreSQL datastore at \(dsn.redacted): \(Self.reason(error))")
        }
        var binds = PostgresBindings(capacity: 2)
        binds.append(Self.nodeLockClass)
        binds.append(name)
        let taken: Bool
        do {
            taken = try await connection.query(PostgresQuery(unsafeSQL: "SELECT pg_try_advisory_lock($1, hashtext($2))", binds: binds),
                                               logger: logger).collect().first?.decode(Bool.self) ?? false
        } catch {
            try? await connection.close()
            throw error
        }
        guard taken else {
            let holder = try? await connection.query(PostgresQuery(unsafeSQL: """
                SELECT a.application_name, COALESCE(host(a.client_addr), 'local socket'), to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid::bigint = $1::bigint
                  AND l.objid::bigint = (hashtext($2)::bigint & 4294967295)
                """, binds: binds), logger: logger).collect().first?.decode((String, String, String).self)
            try? await connection.close()
            let who = holder.map { "\($0.0) (from \($0.1), since \($0.2))" } ?? "another daemon"
            throw CallError(Errno.EBUSY, "Node name \(name) is in use on the PostgreSQL datastore at \(dsn.redacted) by \(who): "
                            + "each daemon sharing a database needs its own dispatcher.node-name")
        }
        nodeClaim.withLock { $0 = connection }
        connection.closeFuture.whenComplete { [logger, weak self] _ in
            guard let self, self.nodeClaim.withLock({ $0 != nil }) else { return }
            logger.error("the connection that holds this daemon's node name closed; another daemon could now start under the same name",
                         metadata: ["node": .string(name)])
        }
    }
}
