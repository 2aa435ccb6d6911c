import ArgumentParser
import Foundation
import Logging
import SwitchboardServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the daemon (SQLite under ./.switchboard and 127.0.0.1:5000 unless configured).")

    @Option(name: .long, help: "Configuration file (default /usr/local/etc/middleware.conf when it exists).")
    var config: String?

    @Option(name: .long, help: "State folder: datastore, lock, local socket.")
    var stateDir: String?

    @Option(name: .long, help: "Address to listen on.")
    var listen: String?

    @Option(name: .long, help: "TCP port (0 picks a free one).")
    var port: Int?

    @Option(name: .long, help: "Local UNIX socket path (empty string disables it).")
    var socket: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    @Option(name: .long, help: "Log line format: text, or json (one object per line, for log shippers).")
    var logFormat: String?

    func run() async throws {
        // Foundation's default time zone is UTC in the daemon. Nothing in it formats local time (the API
        // speaks epoch milliseconds and UTC, the log handler uses libc's localtime), and the one default
        // lookup at startup, by Hummingbird's Date-header calendar, would otherwise resolve the system zone
        // through ICU's tables: 1.7 MiB of them made resident for a calendar immediately set to GMT.
        // `TimeZone.current` still answers the system's zone for whoever asks for it.
        NSTimeZone.default = .gmt
        var configuration: DaemonConfiguration
        do {
            configuration = try DaemonConfiguration.load(path: config)
            if let stateDir { configuration.stateDir = stateDir }
            if let listen { configuration.listen = listen }
            if let port {
                guard (0...65535).contains(port) else { throw ConfigurationError(path: "--port", reason: "must be 0 to 65535") }
                configuration.websocketPort = port
            }
            if let socket { configuration.unixSocket = socket }
            if let logLevel { configuration.logLevel = try DaemonConfiguration.logLevel(.string(logLevel), "--log-level") }
            if let logFormat { configuration.logFormat = try DaemonConfiguration.logFormat(logFormat, "--log-format") }
        } catch {
            FileHandle.standardError.write(Data("switchboard: configuration error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let logging: DaemonLogging
        do {
            logging = try DaemonLogging(configuration)
        } catch {
            FileHandle.standardError.write(Data("switchboard: configuration error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        logging.bootstrap()
        let logger = Logger(label: "switchboard")
        do {
            // A reload reads the same file (and environment) again; only the plugins section is applied then.
            let path = config
            try await Daemon(configuration: configuration, logger: logger, logging: logging,
                             reloadConfiguration: { try DaemonConfiguration.load(path: path) }).run()
        } catch let error as ConfigurationError {
            // Found only once the daemon looks (a plugin's section, a TLS file): still the operator's file to fix.
            logger.critical("cannot start: configuration error: \(error)")
            FileHandle.standardError.write(Data("switchboard: configuration error: \(error)\n".utf8))
            throw ExitCode(2)
        } catch {
            logger.critical("cannot start: \(error)")
            FileHandle.standardError.write(Data("switchboard: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
