/// Where the daemon's log goes (`dispatcher.logging`): standard error, a file, or the system's syslog socket.
public enum LogDestination: Sendable, Equatable {
    case stderr
    /// A file appended to, reopened on SIGUSR1 or `switchboard ctl reopen-logs` (for logrotate).
    case file(String)
    /// RFC 5424 datagrams to a UNIX socket (`/dev/log` unless `dispatcher.syslog-socket` says otherwise).
    case syslog(socket: String, facility: SyslogFacility)

    /// The value of `dispatcher.logging`: `stderr` (or seed 000's `console`), `syslog`, or an absolute file path
    /// (Zephserver's `LOG_PATH`).
    static func parse(_ value: String, syslogSocket: String, facility: SyslogFacility) throws -> LogDestination {
        switch value {
        case "stderr", "console": return .stderr
        case "syslog": return .syslog(socket: syslogSocket, facility: facility)
        default:
            guard value.hasPrefix("/") else {
                throw ConfigurationError(path: "dispatcher.logging", reason: "must be stderr, syslog or an absolute file path, not '\(value)'")
            }
            return .file(value)
        }
    }
}
