import Foundation
import SwitchboardCore

/// Where the PostgreSQL datastore connects, read from `datastore.dsn` in libpq's URI form:
/// `postgres://user[:password]@host[:port]/database[?sslmode=...&host=/run/postgresql&pool=N]`.
///
/// The password comes from the DSN, else from `datastore.password-file`, else from the environment
/// (`SWITCHBOARD_DATASTORE_PASSWORD`, then libpq's `PGPASSWORD`). It is never part of `redacted`, which is the
/// only form logs and errors show.
public struct PostgresDSN: Sendable, Equatable {
    public enum TLSMode: String, Sendable, CaseIterable {
        /// libpq's modes: `disable`, `prefer` (the default: TLS when the server offers it, unverified),
        /// `require` (TLS, unverified), `verify-ca` (TLS, the chain checked), `verify-full` (and the host name).
        case disable, prefer, require, verifyCA = "verify-ca", verifyFull = "verify-full"
    }

    public var user: String
    public var password: String?
    /// A host name or address, or a folder holding the server's UNIX socket (a `host` that starts with `/`).
    public var host: String
    public var port: Int
    public var database: String
    public var tls: TLSMode
    /// The most connections the daemon opens for calls (its LISTEN connection is one more).
    public var poolSize: Int

    /// - Throws: `CallError` EINVAL naming what is wrong; the message never holds the password.
    public init(_ text: String, passwordFile: String? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment) throws(CallError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
              scheme == "postgres" || scheme == "postgresql" else {
            throw CallError(Errno.EINVAL, "datastore.dsn must be a URI of the form postgres://user@host:5432/database")
        }
        user = components.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        host = components.host.flatMap { $0.removingPercentEncoding } ?? ""
        port = components.port ?? 5432
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.removingPercentEncoding ?? path
        tls = .prefer
        poolSize = 8
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard let mode = TLSMode(rawValue: value) else {
                    throw CallError(Errno.EINVAL, "datastore.dsn: sslmode '\(value)' is not one of \(TLSMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                tls = mode
            case "host":
                host = value
            case "port":
                guard let number = Int(value), (1...65_535).contains(number) else {
                    throw CallError(Errno.EINVAL, "datastore.dsn: port '\(value)' is not a port number")
                }
                port = number
            case "pool":
                guard let number = Int(value), (1...200).contains(number) else {
                    throw CallError(Errno.EINVAL, "datastore.dsn: pool '\(value)' must be a number of connections from 1 to 200")
                }
                poolSize = number
            case "user":
                user = value
            case "dbname":
                database = value
            default:
                throw CallError(Errno.EINVAL, "datastore.dsn: unknown parameter '\(item.name)' (known: sslmode, host, port, user, dbname, pool)")
            }
        }
        if host.isEmpty { host = "/var/run/postgresql" }
        if database.isEmpty { database = user }
        if let secret = components.password.flatMap({ $0.removingPercentEncoding }) {
            password = secret
        } else if let passwordFile {
            do {
                let contents = try String(contentsOfFile: passwordFile, encoding: .utf8)
                password = contents.trimmingCharacters(in: .newlines)
            } catch {
                throw CallError(Errno.EINVAL, "datastore.password-file: cannot read \(passwordFile): \((error as NSError).localizedDescription)")
            }
        } else if let secret = environment["SWITCHBOARD_DATASTORE_PASSWORD"] ?? environment["PGPASSWORD"] {
            password = secret
        } else {
            password = nil
        }
    }

    /// Whether `host` names a folder of UNIX sockets rather than a TCP host.
    public var isSocket: Bool { host.hasPrefix("/") }

    /// The server's socket file in the folder `host` names, as libpq builds it.
    public var socketPath: String { (host as NSString).appendingPathComponent(".s.PGSQL.\(port)") }

    /// The DSN without its password: what logs and error messages show.
    public var redacted: String {
        isSocket ? "postgres://\(user)@/\(database)?host=\(host)&port=\(port)" : "postgres://\(user)@\(host):\(port)/\(database)"
    }
}
