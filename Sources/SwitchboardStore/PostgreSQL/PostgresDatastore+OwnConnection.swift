import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// A connection outside the pool, for what must hold one session for long: the node name's lock, the cluster's
/// LISTEN. It goes where `dsn` points, shown in `pg_stat_activity` as `applicationName` plus `suffix`.
extension PostgresDatastore {
    func connectOwn(to dsn: PostgresDSN, suffix: String = "") async throws -> PostgresConnection {
        var configuration: PostgresConnection.Configuration
        if dsn.isSocket {
            configuration = .init(unixSocketPath: dsn.socketPath, username: dsn.user, password: dsn.password, database: dsn.database)
        } else {
            configuration = .init(host: dsn.host, port: dsn.port, username: dsn.user, password: dsn.password, database: dsn.database,
                                  tls: try Self.connectionTLS(dsn.tls))
        }
        configuration.options.additionalStartupParameters = [("application_name", applicationName + suffix)]
        return try await PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration,
                                                    id: 0, logger: Self.quiet(logger)).get()
    }
}
