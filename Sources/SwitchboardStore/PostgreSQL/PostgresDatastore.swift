import Foundation
import Logging
import NIOSSL
import PostgresNIO
import Synchronization
import SwitchboardCore

/// The cluster's datastore: tables of JSON rows in a PostgreSQL database, through postgres-nio's connection pool.
///
/// It answers exactly as `SQLiteDatastore` does (one `SQLQueryPlan` and one `SQLFilter` for both, the same
/// tables, column types and errors), so plugins and the datastore tests run unchanged on either driver.
///
/// A server that goes away fails each operation after `timeout` (ETIMEDOUT, or EIO with PostgreSQL's reason)
/// instead of holding the call; the pool reconnects by itself when the server is back. Schema changes (the
/// datastore's own tables and `prepare`) take a transaction-scoped advisory lock, so that several daemons
/// starting on one database at once apply each change once.
public final class PostgresDatastore: Datastore {
    let client: PostgresClient
    public let dsn: PostgresDSN
    let timeout: Duration
    let logger: Logger
    private let runner: Task<Void, Never>
    /// Upsert SQL by table and column shape; bounded by the tables and row shapes plugins define.
    let upsertStatements = Mutex<[String: String]>([:])
    /// The last probe of an unavailable server and when it ran: calls that time out together share one.
    let lastProbe = Mutex<(at: ContinuousClock.Instant, reason: String?)?>(nil)
    /// How this daemon's connections show in `pg_stat_activity`.
    let applicationName: String
    /// The connection holding the node name's lock (`claimNode`), while the daemon runs.
    let nodeClaim = Mutex<PostgresConnection?>(nil)
    /// The cluster's relay while it runs: changes announced through the datastore then commit with their event.
    let relay = Mutex<PostgresEventRelay?>(nil)
    /// The advisory lock key every schema change takes (`hashtext('switchboard.schema')`, fixed here so the
    /// lock does not depend on the server's hash function).
    static let schemaLock: Int64 = 0x5357_4244_5343_4845

    /// Connects, checks that the server answers, and applies the datastore's own migrations.
    /// - Throws: `CallError` EIO naming the server (never its password) and PostgreSQL's or the network's reason
    ///   when a first connection cannot be opened.
    /// - Parameter applicationName: how the daemon's connections show in `pg_stat_activity` (and in the refusal a
    ///   daemon of the same node name gets from `claimNode`).
    public init(dsn: PostgresDSN, logger: Logger, timeout: Duration = .seconds(10), applicationName: String = "switchboard") async throws {
        self.dsn = dsn
        self.applicationName = applicationName
        self.timeout = timeout
        var logger = logger
        logger[metadataKey: "datastore"] = .string(dsn.redacted)
        self.logger = logger
        if let reason = await Self.probe(dsn, timeout: timeout, logger: logger) {
            throw CallError(Errno.EIO, "Cannot use the PostgreSQL datastore at \(dsn.redacted): \(reason)")
        }
        let client = PostgresClient(configuration: try Self.configuration(dsn, timeout: timeout, applicationName: applicationName),
                                    backgroundLogger: Self.quiet(logger))
        self.client = client
        runner = Task { await client.run() }
        do {
            try await migrate()
        } catch {
            runner.cancel()
            throw error
        }
    }

    static func configuration(_ dsn: PostgresDSN, timeout: Duration, applicationName: String) throws -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if dsn.isSocket {
            configuration = .init(unixSocketPath: dsn.socketPath, username: dsn.user, password: dsn.password, database: dsn.database)
        } else {
            configuration = .init(host: dsn.host, port: dsn.port, username: dsn.user, password: dsn.password, database: dsn.database,
                                  tls: try tls(dsn.tls))
        }
        configuration.options.maximumConnections = dsn.poolSize
        configuration.options.minimumConnections = 1
        configuration.options.connectTimeout = timeout
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        return configuration
    }

    /// libpq's `sslmode` as NIOSSL settings: `prefer` and `require` encrypt without checking the certificate,
    /// as libpq does; `verify-ca` checks the chain and `verify-full` the host name too.
    static func tls(_ mode: PostgresDSN.TLSMode) throws -> PostgresClient.Configuration.TLS {
        var settings = TLSConfiguration.makeClientConfiguration()
        switch mode {
        case .disable:
            return .disable
        case .prefer:
            settings.certificateVerification = .none
            return .prefer(settings)
        case .require:
            settings.certificateVerification = .none
            return .require(settings)
        case .verifyCA:
            settings.certificateVerification = .noHostnameVerification
            return .require(settings)
        case .verifyFull:
            settings.certificateVerification = .fullVerification
            return .require(settings)
        }
    }

    /// postgres-nio logs every failed connection attempt of its pool; the datastore reports what a call sees
    /// once, with the server named, so the pool's own lines only go out at warning and above.
    static func quiet(_ logger: Logger) -> Logger {
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        return quiet
    }

    /// The datastore's own tables, created once per database whichever node comes first.
    func migrate() async throws {
        try await transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.schemaLock))", logger: self.logger)
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS switchboard_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)
                """, logger: self.logger)
            try await connection.query("""
                INSERT INTO switchboard_meta (key, value) VALUES ('created', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
                ON CONFLICT (key) DO NOTHING
                """, logger: self.logger)
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS switchboard_sequences (name TEXT PRIMARY KEY NOT NULL, last BIGINT NOT NULL)
                """, logger: self.logger)
        }
    }

    public func close() async throws {
        if let connection = nodeClaim.withLock({ connection -> PostgresConnection? in
            defer { connection = nil }
            return connection
        }) {
            try? await connection.close()
        }
        runner.cancel()
        // The pool's run() ends on cancellation once its connections close; a connection that never answers its
        // close must not keep the daemon (or a test) from stopping: the wait is bounded by the datastore's timeout.
        let runner = runner
        let waiting = Mutex<CheckedContinuation<Void, Never>?>(nil)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            waiting.withLock { $0 = continuation }
            let resume: @Sendable () -> Void = { waiting.withLock { pending in pending?.resume(); pending = nil } }
            Task { await runner.value; resume() }
            Task { [timeout] in try? await Task.sleep(for: timeout); resume() }
        }
    }
}
