import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import SwitchboardCore

/// Why the server cannot be used, in PostgreSQL's or the network's words. The pool only says that it has no
/// connection to give; a connection of its own tells the operator what is wrong (a refused connection, a
/// wrong password, a missing database).
extension PostgresDatastore {
    /// Opens and closes one connection; nil when that works.
    static func probe(_ dsn: PostgresDSN, timeout: Duration, logger: Logger) async -> String? {
        var configuration: PostgresConnection.Configuration
        do {
            if dsn.isSocket {
                configuration = .init(unixSocketPath: dsn.socketPath, username: dsn.user, password: dsn.password, database: dsn.database)
            } else {
                configuration = .init(host: dsn.host, port: dsn.port, username: dsn.user, password: dsn.password, database: dsn.database,
                                      tls: try connectionTLS(dsn.tls))
            }
        } catch {
            return "its TLS settings cannot be used: \(error)"
        }
        configuration.options.connectTimeout = .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        do {
            let connection = try await PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: 0, logger: quiet(logger)
            ).get()
            try? await connection.close()
            return nil
        } catch let error as PSQLError {
            return reason(error)
        } catch {
            return "\(error)"
        }
    }

    /// PostgreSQL's message and SQLSTATE, or the network's reason.
    static func reason(_ error: PSQLError) -> String {
        if let info = error.serverInfo, let message = info[.message] {
            return "\(message) (SQLSTATE \(info[.sqlState] ?? "?"))"
        }
        if let underlying = error.underlying { return "\(underlying)" }
        return "\(error.code)"
    }

    static func connectionTLS(_ mode: PostgresDSN.TLSMode) throws -> PostgresConnection.Configuration.TLS {
        var settings = TLSConfiguration.makeClientConfiguration()
        switch mode {
        case .disable: return .disable
        case .prefer:
            settings.certificateVerification = .none
            return .prefer(try NIOSSLContext(configuration: settings))
        case .require:
            settings.certificateVerification = .none
            return .require(try NIOSSLContext(configuration: settings))
        case .verifyCA:
            settings.certificateVerification = .noHostnameVerification
            return .require(try NIOSSLContext(configuration: settings))
        case .verifyFull:
            settings.certificateVerification = .fullVerification
            return .require(try NIOSSLContext(configuration: settings))
        }
    }
}
