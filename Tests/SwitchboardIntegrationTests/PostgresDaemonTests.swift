import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore

/// The whole daemon on `datastore.driver: postgresql`: every table the built-in plugins keep (users, API keys,
/// jobs, audit, a config service) works there, and a second daemon with another state folder, on the same
/// database, finds all of it.
@Suite(.serialized) struct PostgresDaemonTests {
    static func start(_ dsn: String, node: String? = nil) async throws -> TestDaemon {
        try await TestDaemon.start { configuration in
            configuration.datastoreDriver = "postgresql"
            configuration.datastoreDSN = dsn
            configuration.nodeName = node
        }
    }

    @Test func everyTableLivesInPostgreSQLAndOutlivesTheDaemon() async throws {
        let dsn = try await TestPostgres.createDatabase()
        let first = try await Self.start(dsn)
        let root = try await first.rootClient()
        _ = try await root.call("user.create", [["username": "alice", "password": "wonder-land", "roles": ["READONLY_ADMIN"]]])
        let created = try await root.call("api_key.create", [["name": "backup", "username": "alice"]])
        let key = try #require(created["key"]?.stringValue)
        _ = try await root.call("system.general.update", [["motd": "kept in PostgreSQL"]])
        let job = try #require(try await root.call("test.job", [3, 1]).intValue)
        #expect(try await root.call("core.job_wait", [.int(job)]) == ["steps": 3])
        let alice = try await RPCClient.connect(to: first.tcp)
        #expect(try await alice.call("auth.login", ["alice", "wonder-land"]) == true)
        await alice.close()
        await root.close()
        await first.stop()

        // Another state folder: nothing of the first daemon's is on this one's disk.
        let second = try await Self.start(dsn)
        let again = try await second.rootClient()
        let password = try await RPCClient.connect(to: second.tcp)
        #expect(try await password.call("auth.login", ["alice", "wonder-land"]) == true)
        #expect(try await password.call("auth.me")["pw_name"] == "alice")
        let byKey = try await RPCClient.connect(to: second.tcp)
        #expect(try await byKey.call("auth.login_with_api_key", [.string(key)]) == true)
        #expect(try await again.call("system.general.config")["motd"] == "kept in PostgreSQL")
        let jobs = try await again.call("core.get_jobs", [[["id", "=", .int(job)]], ["get": true]])
        #expect(jobs["state"] == "SUCCESS" && jobs["result"] == ["steps": 3] && jobs["progress"]?["percent"] == 100, "\(jobs)")
        // Job ids go on from the stored ones.
        let next = try #require(try await again.call("test.job", [0]).intValue)
        #expect(next > job)
        let audited = try await again.call("audit.query", [[["method", "in", ["user.create", "api_key.create", "system.general.update"]]],
                                                            ["select": ["method", "success"], "order_by": ["id"]]])
        #expect(audited == [["method": "user.create", "success": true], ["method": "api_key.create", "success": true],
                            ["method": "system.general.update", "success": true]], "\(audited)")
        for client in [again, password, byKey] { await client.close() }
        await second.stop()
        await TestPostgres.dropDatabase(dsn)
    }

    /// Two daemons under one node name on one database are refused, the first one named; once the first
    /// stops, the second starts. (Daemons with different names share it: ClusterDaemonTests.)
    @Test func aSecondDaemonUnderTheSameNodeNameIsRefusedUntilTheFirstStops() async throws {
        let dsn = try await TestPostgres.createDatabase()
        let first = try await Self.start(dsn, node: "nas-a")
        let error = await #expect(throws: CallError.self) { _ = try await Self.start(dsn, node: "nas-a") }
        #expect(error?.errno == Errno.EBUSY, "\(String(describing: error))")
        // The holder is named as `pg_stat_activity` shows it.
        #expect(error?.reason.hasPrefix("Node name nas-a is in use on the PostgreSQL datastore at postgres://") == true, "\(String(describing: error))")
        #expect(error?.reason.contains(" by switchboard nas-a pid \(getpid()) (from 127.0.0.1, since ") == true, "\(String(describing: error))")
        #expect(error?.reason.hasSuffix("each daemon sharing a database needs its own dispatcher.node-name") == true)
        let other = try await Self.start(dsn, node: "nas-b")
        await other.stop()
        await first.stop()
        let second = try await Self.start(dsn, node: "nas-a")
        let root = try await second.rootClient()
        #expect(try await root.call("core.ping") == "pong")
        await root.close()
        await second.stop()
        await TestPostgres.dropDatabase(dsn)
    }

    /// A DSN that cannot be used stops the start with PostgreSQL's reason, naming the key, without the password.
    @Test func aDaemonWhoseDatabaseRefusesItDoesNotStart() async throws {
        let admin = try TestPostgres.admin()
        let dsn = TestPostgres.dsn(admin, database: "sb_missing_database_\(UUID().uuidString.prefix(6).lowercased())")
        let error = await #expect(throws: (any Error).self) { _ = try await Self.start(dsn) }
        let text = "\(error.map { "\($0)" } ?? "")"
        #expect(text.contains("Cannot use the PostgreSQL datastore at postgres://\(admin.user)@\(admin.host):\(admin.port)/sb_missing_database_"), "\(text)")
        #expect(text.contains("does not exist (SQLSTATE 3D000)"), "\(text)")
        #expect(!text.contains(admin.password ?? "?"))
    }
}
