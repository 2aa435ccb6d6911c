import Foundation
import Logging
import NIOPosix
import PostgresNIO
import SwitchboardCore
@testable import SwitchboardStore

/// The PostgreSQL server the tests use: `SWITCHBOARD_TEST_POSTGRES` names it (a superuser DSN), as
/// `scripts/test` sets it after `scripts/postgres start`. Each test gets a database of its own, created here
/// and dropped when it is done, so tests never see each other's rows.
enum TestPostgres {
    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "SWITCHBOARD_TEST_POSTGRES is not set: run the suite with scripts/test, which starts PostgreSQL (scripts/postgres start) and sets it"
        }
    }

    /// The superuser DSN, parsed.
    static func admin() throws -> PostgresDSN {
        guard let text = ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_POSTGRES"], !text.isEmpty else { throw Missing() }
        return try PostgresDSN(text)
    }

    /// A new, empty database; returns its DSN (with the password, as a daemon's configuration would hold it).
    static func createDatabase() async throws -> String {
        let admin = try admin()
        let name = "sb_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        try await run(admin, "CREATE DATABASE \(name)")
        return dsn(admin, database: name)
    }

    /// Drops a database made by `createDatabase`, closing whatever still uses it.
    static func dropDatabase(_ dsn: String) async {
        guard let admin = try? admin(), let target = try? PostgresDSN(dsn) else { return }
        try? await run(admin, "DROP DATABASE IF EXISTS \(target.database) WITH (FORCE)")
    }

    static func dsn(_ admin: PostgresDSN, database: String, password: String?? = .none) -> String {
        let secret = password ?? admin.password
        let credentials = secret.map { "\(admin.user):\($0.addingPercentEncoding(withAllowedCharacters: .urlPasswordAllowed) ?? $0)" } ?? admin.user
        return "postgres://\(credentials)@\(admin.host):\(admin.port)/\(database)?sslmode=disable"
    }

    /// Runs one statement as the superuser on its own connection (CREATE DATABASE cannot run in a transaction).
    @discardableResult
    static func run(_ dsn: PostgresDSN, _ sql: String, database: String? = nil) async throws -> [PostgresRow] {
        let configuration = PostgresConnection.Configuration(host: dsn.host, port: dsn.port, username: dsn.user, password: dsn.password,
                                                             database: database ?? dsn.database, tls: .disable)
        let connection = try await PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration,
                                                              id: 1, logger: Logger(label: "test-postgres")).get()
        do {
            let rows = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "test-postgres")).collect()
            try await connection.close()
            return rows
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
