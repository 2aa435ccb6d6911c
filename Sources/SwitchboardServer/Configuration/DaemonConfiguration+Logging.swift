import SwitchboardCore

/// The logging keys of the `dispatcher` section: where the log goes, in which format, at which level.
extension DaemonConfiguration {
    /// Reads `syslog-socket`, `syslog-facility`, `log-format`, `logging` and `log-level`; `logging` is checked
    /// against the syslog settings read before it, whatever their order in the file.
    mutating func applyLogging(_ section: JSONObject) throws {
        if let v = section["syslog-socket"] { syslogSocket = try Self.string(v, "dispatcher.syslog-socket") }
        if let v = section["syslog-facility"] { syslogFacility = try SyslogFacility.parse(try Self.string(v, "dispatcher.syslog-facility")) }
        if let v = section["log-format"] { logFormat = try Self.logFormat(try Self.string(v, "dispatcher.log-format"), "dispatcher.log-format") }
        if let v = section["logging"] {
            let value = try Self.string(v, "dispatcher.logging")
            _ = try LogDestination.parse(value, syslogSocket: syslogSocket, facility: syslogFacility)
            logging = value
        }
        if let v = section["log-level"] { logLevel = try Self.logLevel(v, "dispatcher.log-level") }
    }

    public static func logFormat(_ value: String, _ path: String) throws -> LogFormat {
        guard let format = LogFormat(rawValue: value) else {
            throw ConfigurationError(path: path, reason: "must be text or json, not '\(value)'")
        }
        return format
    }

    public static func logLevel(_ json: JSON, _ path: String) throws -> String {
        let value = try string(json, path)
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(value) else {
            throw ConfigurationError(path: path, reason: "must be one of trace, debug, info, notice, warning, error, critical")
        }
        return value
    }
}
