import Foundation
import Logging
import NIOPosix
import PostgresNIO
import SwitchboardStore

/// `cluster`: the PostgreSQL driver and the cluster (issue 19), measured in one sitting beside the embedded SQLite.
///
/// 1. Three nodes on one database: a user updated on node A as fast as `emitters` calls in flight allow, its events
///    delivered to `subscribers` connections spread over nodes B and C; deliveries/s and send-to-delivery p50/p99.
/// 2. One node: jobs/s, rpc and fan-out with the PostgreSQL driver, then with SQLite, and their ratios.
///
/// It needs a PostgreSQL server: `--postgres`, else `SWITCHBOARD_BENCH_POSTGRES`, else `SWITCHBOARD_TEST_POSTGRES`
/// (what `scripts/postgres start` prints), a DSN of a role that may create databases. Each part runs on a database
/// of its own, created here and dropped after.
extension Scenarios {
    static func postgresDSN(_ option: String?) throws -> String {
        let environment = ProcessInfo.processInfo.environment
        guard let dsn = option ?? environment["SWITCHBOARD_BENCH_POSTGRES"] ?? environment["SWITCHBOARD_TEST_POSTGRES"], !dsn.isEmpty else {
            throw ScenarioError("the cluster scenario needs a PostgreSQL server: --postgres DSN, SWITCHBOARD_BENCH_POSTGRES, or "
                                + "SWITCHBOARD_TEST_POSTGRES as `eval \"$(scripts/postgres start)\"` sets it")
        }
        return dsn
    }

    /// `synchronousCommit`: PostgreSQL's `synchronous_commit` for the bench's databases (`off` gives the
    /// durability of the embedded default, SQLite in WAL mode with `synchronous = NORMAL`); nil keeps the server's.
    static func cluster(postgres: String, subscribers: Int, emitters: Int, fanoutSubscribers: Int, connections: Int, inFlight: Int,
                        duration: Duration, synchronousCommit: String?) async throws -> [Figure] {
        _ = ProcessStats.raiseFileLimit()
        var figures: [Figure] = []
        let shared = try await ScratchDatabase(postgres, synchronousCommit: synchronousCommit)
        do {
            let run = UUID().uuidString.prefix(6).lowercased()
            var nodes: [DaemonProcess] = []
            defer { for node in nodes { node.stop() } }
            for name in ["a", "b", "c"] {
                let node = try DaemonProcess(configuration: DaemonProcess.configuration(maxRunningCalls: 64, postgres: shared.dsn, node: "bench-\(run)-\(name)"))
                nodes.append(node)
                try node.waitReady()
                try await node.prepareAdmin()
            }
            figures += try await fanout(emitter: nodes[0], subscribedTo: [nodes[1], nodes[2]], subscribers: subscribers, emitters: emitters,
                                        rate: 0, duration: duration, prefix: "cluster A->B,C")
        }
        await shared.drop()

        let single = try await ScratchDatabase(postgres, synchronousCommit: synchronousCommit)
        let sqliteJobs = try await jobs(connections: connections, inFlight: inFlight, duration: duration)
        let postgresJobs = try await jobs(connections: connections, inFlight: inFlight, duration: duration, postgres: single.dsn)
        let sqliteRPC = try await rpc(connections: connections, inFlight: inFlight, duration: duration, withBaseline: false)
        let postgresRPC = try await rpc(connections: connections, inFlight: inFlight, duration: duration, withBaseline: false, postgres: single.dsn)
        let sqliteFanout = try await fanout(subscribers: fanoutSubscribers, emitters: emitters, duration: duration)
        let postgresFanout = try await fanout(subscribers: fanoutSubscribers, emitters: emitters, duration: duration, postgres: single.dsn)
        await single.drop()
        figures += sqliteJobs + postgresJobs + sqliteRPC + postgresRPC + sqliteFanout + postgresFanout
        func value(_ figures: [Figure], _ suffix: String) -> Double {
            figures.first { $0.name.hasSuffix(suffix) }?.value ?? 0
        }
        for (name, sqlite, postgres, suffix) in [
            ("jobs/s", sqliteJobs, postgresJobs, "completed/s"),
            ("rpc core.ping calls/s", Array(sqliteRPC.prefix(7)), Array(postgresRPC.prefix(7)), "calls/s"),
            ("rpc user.query calls/s", Array(sqliteRPC.dropFirst(7)), Array(postgresRPC.dropFirst(7)), "calls/s"),
            ("fanout deliveries/s", sqliteFanout, postgresFanout, "deliveries/s"),
        ] {
            figures.append(Figure(name: "PostgreSQL/SQLite \(name)", value: value(postgres, suffix) / max(value(sqlite, suffix), 1), unit: "x"))
        }
        return figures
    }
}

struct ScenarioError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A database of the bench's own on the given server, created on init and dropped (with whatever still uses it)
/// by `drop`.
struct ScratchDatabase {
    let admin: PostgresDSN
    let name: String
    let dsn: String

    init(_ adminDSN: String, synchronousCommit: String? = nil) async throws {
        admin = try PostgresDSN(adminDSN)
        name = "switchboard_bench_\(UUID().uuidString.prefix(8).lowercased())"
        var components = URLComponents(string: adminDSN.replacingOccurrences(of: "postgresql://", with: "postgres://"))
        components?.path = "/" + name
        guard let text = components?.string else { throw ScenarioError("cannot derive a DSN from \(admin.redacted)") }
        dsn = text
        try await Self.run(admin, "CREATE DATABASE \(name)")
        if let synchronousCommit {
            guard ["on", "off", "local", "remote_write", "remote_apply"].contains(synchronousCommit) else {
                throw ScenarioError("--synchronous-commit must be on, off, local, remote_write or remote_apply")
            }
            try await Self.run(admin, "ALTER DATABASE \(name) SET synchronous_commit = \(synchronousCommit)")
        }
    }

    func drop() async {
        try? await Self.run(admin, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    static func run(_ dsn: PostgresDSN, _ sql: String) async throws {
        let configuration = PostgresConnection.Configuration(host: dsn.host, port: dsn.port, username: dsn.user, password: dsn.password,
                                                             database: dsn.database, tls: .disable)
        let connection = try await PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration,
                                                              id: 1, logger: Logger(label: "switchboard-bench")).get()
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "switchboard-bench"))
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
