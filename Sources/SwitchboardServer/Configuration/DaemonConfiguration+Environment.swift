import SwitchboardCore

/// The `SWITCHBOARD_*` environment variables, applied over the configuration file.
extension DaemonConfiguration {
    /// `SWITCHBOARD_*` variables override the file.
    public mutating func apply(environment: [String: String]) throws {
        if let v = environment["SWITCHBOARD_STATE_DIR"], !v.isEmpty { stateDir = v }
        if let v = environment["SWITCHBOARD_LISTEN"], !v.isEmpty { listen = v }
        if let v = environment["SWITCHBOARD_PORT"], !v.isEmpty {
            guard let port = Int(v), (0...65535).contains(port) else {
                throw ConfigurationError(path: "SWITCHBOARD_PORT", reason: "must be a port number, not '\(v)'")
            }
            websocketPort = port
        }
        if let v = environment["SWITCHBOARD_FRONTEND_PORT"], !v.isEmpty {
            if v == "off" {
                frontendPort = nil
            } else {
                guard let port = Int(v), (0...65535).contains(port) else {
                    throw ConfigurationError(path: "SWITCHBOARD_FRONTEND_PORT", reason: "must be a port number or off, not '\(v)'")
                }
                frontendPort = port
            }
        }
        if let v = environment["SWITCHBOARD_UNIX_SOCKET"] { unixSocket = v }
        if let v = environment["SWITCHBOARD_CONTROL_SOCKET"] { controlSocket = v }
        if let v = environment["SWITCHBOARD_LOG_LEVEL"], !v.isEmpty { logLevel = try Self.logLevel(.string(v), "SWITCHBOARD_LOG_LEVEL") }
        if let v = environment["SWITCHBOARD_LOG_FORMAT"], !v.isEmpty { logFormat = try Self.logFormat(v, "SWITCHBOARD_LOG_FORMAT") }
        if let v = environment["SWITCHBOARD_DATASTORE_DRIVER"], !v.isEmpty {
            guard Self.datastoreDrivers.contains(v) else {
                throw ConfigurationError(path: "SWITCHBOARD_DATASTORE_DRIVER", reason: "'\(v)' is not available; supported: \(Self.datastoreDrivers.joined(separator: ", "))")
            }
            datastoreDriver = v
        }
        if let v = environment["SWITCHBOARD_DATASTORE_DSN"], !v.isEmpty { datastoreDSN = v }
        if let v = environment["SWITCHBOARD_NODE_NAME"], !v.isEmpty { nodeName = try Self.nodeName(v, "SWITCHBOARD_NODE_NAME") }
    }
}
