import Foundation
import Logging
import Testing
import SwitchboardCore
@testable import SwitchboardStore

/// What only the PostgreSQL driver has: a DSN with a password that must never show, a server that can be
/// refused, go away and come back, and types stricter than SQLite's.
@Suite struct PostgresDatastoreTests {
    static let table = TableDefinition("things", columns: [.init("name", .text), .init("size", .integer)])

    @Test func theDSNIsReadAsLibpqReadsIt() throws {
        let full = try PostgresDSN("postgres://sb%40ops:p%2Fss@db.example:6543/switch?sslmode=require&pool=4", environment: [:])
        #expect(full.user == "sb@ops" && full.password == "p/ss" && full.host == "db.example" && full.port == 6543)
        #expect(full.database == "switch" && full.tls == .require && full.poolSize == 4)
        #expect(full.redacted == "postgres://sb@ops@db.example:6543/switch" && !full.redacted.contains("p/ss"))
        // Defaults: libpq's socket folder, the user's database, TLS when offered.
        let bare = try PostgresDSN("postgresql://switchboard@/?host=/run/postgresql", environment: [:])
        #expect(bare.isSocket && bare.socketPath == "/run/postgresql/.s.PGSQL.5432" && bare.database == "switchboard" && bare.tls == .prefer)
        #expect(bare.password == nil)
    }

    @Test func thePasswordComesFromTheDSNThenTheFileThenTheEnvironment() throws {
        let folder = TestDaemon.makeStateDir()
        let file = folder + "/password"
        try "from-file\n".write(toFile: file, atomically: true, encoding: .utf8)
        let environment = ["SWITCHBOARD_DATASTORE_PASSWORD": "from-env", "PGPASSWORD": "from-pg"]
        #expect(try PostgresDSN("postgres://u:from-dsn@h/d", passwordFile: file, environment: environment).password == "from-dsn")
        #expect(try PostgresDSN("postgres://u@h/d", passwordFile: file, environment: environment).password == "from-file")
        #expect(try PostgresDSN("postgres://u@h/d", environment: environment).password == "from-env")
        #expect(try PostgresDSN("postgres://u@h/d", environment: ["PGPASSWORD": "from-pg"]).password == "from-pg")
        let missing = #expect(throws: CallError.self) { try PostgresDSN("postgres://u@h/d", passwordFile: folder + "/none", environment: [:]) }
        #expect(missing?.reason.hasPrefix("datastore.password-file: cannot read \(folder)/none") == true, "\(String(describing: missing))")
    }

    @Test(arguments: [
        ("mysql://u@h/d", "datastore.dsn must be a URI of the form postgres://user@host:5432/database"),
        ("postgres://u@h/d?sslmode=maybe", "datastore.dsn: sslmode 'maybe' is not one of disable, prefer, require, verify-ca, verify-full"),
        ("postgres://u@h/d?pool=0", "datastore.dsn: pool '0' must be a number of connections from 1 to 200"),
        ("postgres://u@h/d?connect_timeout=3", "datastore.dsn: unknown parameter 'connect_timeout' (known: sslmode, host, port, user, dbname, pool)"),
    ])
    func aBadDSNIsRefusedWithItsReason(dsn: String, reason: String) {
        let error = #expect(throws: CallError.self) { try PostgresDSN(dsn, environment: [:]) }
        #expect(error?.errno == Errno.EINVAL && error?.reason == reason, "\(String(describing: error))")
    }

    /// A wrong password or a missing database stops the open with PostgreSQL's reason, and the password is in no
    /// message.
    @Test func aServerThatRefusesSaysWhyWithoutThePassword() async throws {
        let admin = try TestPostgres.admin()
        let wrong = TestPostgres.dsn(admin, database: admin.database, password: "not-the-Secret-42")
        let refused = await #expect(throws: CallError.self) {
            _ = try await PostgresDatastore(dsn: PostgresDSN(wrong), logger: Logger(label: "test"), timeout: .seconds(5))
        }
        #expect(refused?.errno == Errno.EIO, "\(String(describing: refused))")
        #expect(refused?.reason.contains("password authentication failed for user \"\(admin.user)\" (SQLSTATE 28P01)") == true,
                "\(String(describing: refused))")
        #expect(refused?.reason.contains("not-the-Secret-42") == false && refused?.reason.contains(admin.password ?? "?") == false)
        let missing = await #expect(throws: CallError.self) {
            _ = try await PostgresDatastore(dsn: PostgresDSN(TestPostgres.dsn(admin, database: "sb_no_such_database")), logger: Logger(label: "test"))
        }
        #expect(missing?.reason.contains("database \"sb_no_such_database\" does not exist (SQLSTATE 3D000)") == true, "\(String(describing: missing))")
    }

    /// The server goes away: calls fail within the datastore's timeout, naming the server and the network's
    /// reason; it comes back: calls work again with nothing restarted.
    @Test func aServerThatGoesAwayFailsCallsAndIsFoundAgain() async throws {
        let admin = try TestPostgres.admin()
        let database = try await TestPostgres.createDatabase()
        let relay = try await TCPRelay(targetPort: admin.port)
        let target = try PostgresDSN(database)
        let dsn = try PostgresDSN(TestPostgres.dsn(PostgresDSN("postgres://\(admin.user)@127.0.0.1:\(relay.port)/\(target.database)", environment: [:]),
                                                  database: target.database, password: admin.password))
        let store = try await PostgresDatastore(dsn: dsn, logger: Logger(label: "test"), timeout: .seconds(2))
        try await store.prepare(Self.table)
        _ = try await store.insert(Self.table, ["name": "before"])

        await relay.cut()
        let failure = await #expect(throws: CallError.self) { _ = try await store.insert(Self.table, ["name": "during"]) }
        #expect(failure?.errno == Errno.ETIMEDOUT || failure?.errno == Errno.EIO, "\(String(describing: failure))")
        #expect(failure?.reason.contains("127.0.0.1:\(relay.port)") == true, "\(String(describing: failure))")
        #expect(failure?.reason.contains(admin.password ?? "?") == false)

        try await relay.restore()
        let stored = try await eventuallyValue("the stored row, once the server is back", timeout: .seconds(60)) { () -> JSON? in
            _ = try? await store.insert(Self.table, ["name": "after"])
            let names = try? await store.query(Self.table, filters: [], options: QueryOptions())
            return names.flatMap { $0.arrayValue?.contains { $0["name"] == "after" } == true ? $0 : nil }
        }
        // The call made while the server was away stored nothing.
        #expect(stored.arrayValue?.contains { $0["name"] == "during" } == false)
        try await store.close()
        await relay.cut()
        await TestPostgres.dropDatabase(database)
    }

    /// PostgreSQL ends the datastore's connections (an administrator's `pg_terminate_backend`, a failover): the
    /// pool opens new ones and calls go on.
    @Test func terminatedConnectionsAreReplaced() async throws {
        let scratch = try await ScratchDatastore.open(.postgresql)
        try await scratch.store.prepare(Self.table)
        let admin = try TestPostgres.admin()
        let database = try PostgresDSN(scratch.location).database
        let ended = try await TestPostgres.run(admin, """
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database)' AND pid <> pg_backend_pid()
            """)
        #expect(!ended.isEmpty)
        let id = try await eventuallyValue("an insert on a new connection", timeout: .seconds(60)) { () -> Int64? in
            try? await scratch.store.insert(Self.table, ["name": "after"])
        }
        #expect(try await scratch.store.get(Self.table, id: id)?["name"] == "after")
        await scratch.discard()
    }

    /// SQLite keeps a string in an integer column; PostgreSQL's driver refuses it with the column named rather
    /// than storing something the column's readers do not expect.
    @Test func aValueOfTheWrongTypeIsRefusedWithItsColumn() async throws {
        let scratch = try await ScratchDatastore.open(.postgresql)
        try await scratch.store.prepare(Self.table)
        let error = await #expect(throws: CallError.self) { _ = try await scratch.store.insert(Self.table, ["name": "x", "size": "big"]) }
        #expect(error?.errno == Errno.EINVAL && error?.reason == "Column size of table things holds integer values, not string", "\(String(describing: error))")
        #expect(error?.extra["column"] == "size")
        // What SQLite would convert losslessly is converted: a whole double, a number into a text column.
        let id = try await scratch.store.insert(Self.table, ["name": 12, "size": 3.0])
        let row = try await scratch.store.get(Self.table, id: id)
        #expect(row?["name"] == "12" && row?["size"] == 3, "\(String(describing: row))")
        await scratch.discard()
    }
}
