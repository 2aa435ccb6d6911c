import Foundation
import SwitchboardCore

/// Why the configuration cannot be used; `path` names the key (`dispatcher.websocket-port`).
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { path.isEmpty ? reason : "\(path): \(reason)" }

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
}

/// Everything the daemon reads at start: seed 000's `middleware.conf` sections, then environment variables,
/// then command-line flags, over built-in defaults that work on a fresh machine.
public struct DaemonConfiguration: Sendable {
    /// `sqlite` (the embedded default) or `postgresql` (a cluster's shared database).
    public var datastoreDriver = "sqlite"
    /// SQLite: the database file; default `<state-dir>/switchboard.db`. PostgreSQL: a `postgres://` URI (required).
    public var datastoreDSN: String?
    /// PostgreSQL: a file holding the password, when the DSN has none.
    public var datastorePasswordFile: String?
    /// How long one datastore operation may wait: PostgreSQL's connection and answer, SQLite's write lock.
    public var datastoreTimeout: Duration = .seconds(10)
    public var pidfile: String?
    public var websocketPort = 5000
    /// `dispatcher.frontend-port`: the debug UI's port, on the same address as the main listener; nil (`null`
    /// in the file, `off` in `SWITCHBOARD_FRONTEND_PORT`) turns it off, 0 picks a free one.
    public var frontendPort: Int? = 8180
    /// Serve the TCP port over TLS only (wss://, https://); the local socket stays plain.
    public var tls = false
    /// PEM certificate chain (leaf first) and PEM private key for `tls`.
    public var tlsCertificate: String?
    public var tlsPrivateKey: String?
    /// `dispatcher.logging`: stderr (or `console`), `syslog` (RFC 5424 to `syslogSocket`), or an absolute file path.
    public var logging = "stderr"
    public var logLevel = "info"
    /// `dispatcher.log-format`: text, or json (one object per line) for log shippers; syslog always gets RFC 5424.
    public var logFormat = LogFormat.text
    /// `dispatcher.syslog-socket`: where syslog messages go.
    public var syslogSocket = "/dev/log"
    /// `dispatcher.syslog-facility`: the facility of every message.
    public var syslogFacility = SyslogFacility.daemon
    /// Where the log goes, from `logging` and the syslog settings (checked at load).
    public var logDestination: LogDestination {
        (try? LogDestination.parse(logging, syslogSocket: syslogSocket, facility: syslogFacility)) ?? .stderr
    }
    /// `dispatcher.plugin-dirs`: where external plugins are found (kept in `externalPlugins`).
    public var pluginDirs: [String] {
        get { externalPlugins.directories }
        set { externalPlugins.directories = newValue }
    }
    /// How external plugins are found, run and supervised.
    public var externalPlugins = ExternalPluginSettings()
    /// The `metrics` section.
    public var metrics = MetricsSettings()
    /// The `transfers` section: uploads and downloads.
    public var transfers = TransferLimits()
    /// Address the TCP listener binds; loopback unless configured.
    public var listen = "127.0.0.1"
    /// `dispatcher.public-api-docs`: serve `/api/docs` and the OpenAPI document without login. Unset: only
    /// when the TCP listener is loopback (a remote stranger learns nothing `core.get_methods` would not tell).
    public var publicAPIDocs: Bool?
    public var resolvedPublicAPIDocs: Bool { publicAPIDocs ?? Self.isLoopback(listen) }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
    /// The local socket; default `<state-dir>/switchboard.sock`; empty disables it.
    public var unixSocket: String?
    public var stateDir: String
    /// `security.secret-key-file`: the key sealing secrets in the datastore; default `<state-dir>/secret.key`.
    public var secretKeyFile: String?
    /// `cluster.heartbeat-seconds`: how often a node of a PostgreSQL cluster renews its row.
    public var clusterHeartbeat: Duration = .seconds(2)
    /// `cluster.node-timeout-seconds`: a node silent this long is declared dead, its jobs failed.
    public var clusterNodeTimeout: Duration = .seconds(15)
    /// `dispatcher.node-name`: this node's name in a cluster, on its jobs and its database connections.
    public var nodeName: String?
    public var resolvedNodeName: String { nodeName ?? Self.defaultNodeName }
    /// The host name when it is a valid node name (it nearly always is), else `switchboard`.
    static var defaultNodeName: String {
        let host = Runtime.hostname
        return validNodeName(host) ? host : "switchboard"
    }

    /// Up to 63 letters, digits, `.`, `_` and `-`, starting with a letter or digit: a host name's alphabet, safe in
    /// logs, `pg_stat_activity` and a cluster's tables.
    public static func validNodeName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= 63 else { return false }
        let ascii = { (c: Unicode.Scalar) in c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c)) }
        return ascii(first) && name.unicodeScalars.allSatisfy { ascii($0) || $0 == "." || $0 == "_" || $0 == "-" }
    }

    /// `name` when it is a valid node name, else the error naming `path` (the key or the variable).
    static func nodeName(_ name: String, _ path: String) throws -> String {
        guard validNodeName(name) else {
            throw ConfigurationError(path: path, reason: "'\(name)' is not a node name: up to 63 letters, digits, '.', '_' and '-', starting with a letter or digit")
        }
        return name
    }
    public var maxRunningCalls = 10
    public var maxQueuedCalls = 20
    /// Bound of each connection's queue of unsent frames; a client that falls further behind is disconnected.
    public var maxOutboundMessages = 4_096
    public var maxOutboundBytes = 8 << 20
    /// On shutdown, how long open connections get to close before they are cut: a client that stopped
    /// reading must not hold the daemon up.
    public var connectionCloseGrace: Duration = .seconds(5)
    /// On shutdown, how long clients' calls in flight get to finish (new ones refused meanwhile) before the
    /// connections are closed and the calls still running interrupted (Zephserver's task `interrupt`).
    public var callGrace: Duration = .seconds(5)
    /// On a plugin reload, how long the plugin's running jobs get to finish before they are aborted.
    public var pluginReloadGrace: Duration = .seconds(30)
    /// DDP heartbeat: a connection silent this long gets a `ping`, and is closed when it stays silent as long
    /// again (Meteor servers do the same; clients answer with `pong`). Zero turns it off.
    public var ddpHeartbeat: Duration = .seconds(30)
    /// Lifetime of the token the envelope dialect's `rpc/auth` hands out.
    public var envelopeTokenLifetime = 600
    public var envelopeEvents = EnvelopeEventFrames.sysadm
    /// Largest accepted WebSocket message: the cap up to which a method may raise its own limit.
    public var maxMessageSize = 1 << 20
    /// Largest message before authentication (larger: closed with 1007) and after (1009), as middlewared.
    public var maxMessageSizeUnauthenticated = 8 << 10
    public var maxMessageSizeAuthenticated = 64 << 10
    /// The `jobs` section: concurrency, retention and the shutdown grace period.
    public var jobs = JobManager.Limits()
    /// The `security` section: unauthenticated rate limit, failed-login delay and lockout.
    public var guardLimits = ClientGuard.Limits()
    /// Also the `security` section: the unauthenticated idle timeout.
    public var sessionLimits = SessionDirectory.Limits()
    /// Sockets at most: TCP in total (lowered at start to fit the file descriptor limit), TCP from one
    /// address, and on the local socket, which has its own pool so that it stays usable when TCP is full.
    public var maxConnections = 20_000
    public var maxConnectionsPerAddress = 1_000
    public var maxLocalConnections = 256
    /// `security.request-head-timeout-seconds`: a connection's first HTTP request must arrive within this.
    public var requestHeadTimeout: Duration = .seconds(10)
    /// The `audit` section: on or off, retention by age and by count.
    public var audit = AuditLog.Limits()
    /// `security.query-match-steps`: the regular-expression steps one call's query filters may spend.
    public var queryMatchSteps = MatchBudget.defaultLimit
    /// The `plugins` section: `{"<name>": {"enabled": bool, ...}}`.
    public var plugins: JSON = [:]

    public init(stateDir: String = DaemonConfiguration.defaultStateDirectory) {
        self.stateDir = stateDir
    }

    public static let defaultConfigFile = "/usr/local/etc/middleware.conf"

    /// `$XDG_STATE_HOME/switchboard` when set, else `./.switchboard`.
    public static var defaultStateDirectory: String {
        if let xdg = ProcessInfo.processInfo.environment["XDG_STATE_HOME"], !xdg.isEmpty {
            return (xdg as NSString).appendingPathComponent("switchboard")
        }
        return (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(".switchboard")
    }

    public var resolvedSocketPath: String? {
        if let unixSocket { return unixSocket.isEmpty ? nil : unixSocket }
        return (stateDir as NSString).appendingPathComponent("switchboard.sock")
    }

    /// `dispatcher.workers` (Zephserver's `SERVICE_LIST`): the workers to start; nil starts every worker the
    /// plugins declare.
    public var workers: [String]?

    /// `dispatcher.control-socket`: the operator's socket (`switchboard ctl`); default `<state-dir>/control.sock`;
    /// empty disables it.
    public var controlSocket: String?

    public var resolvedControlSocketPath: String? {
        if let controlSocket { return controlSocket.isEmpty ? nil : controlSocket }
        return (stateDir as NSString).appendingPathComponent("control.sock")
    }

    /// The longest local socket path the kernel takes (`sun_path` holds 108 bytes with its terminating zero).
    static let maxSocketPath = 107

    /// Checks what only the whole configuration tells: the local socket's path fits `sun_path`.
    /// - Throws: `ConfigurationError` naming the key that made the path.
    public func validate() throws {
        if datastoreDriver == "postgresql", datastoreDSN?.isEmpty ?? true {
            throw ConfigurationError(path: "datastore.dsn", reason: "the postgresql driver needs a DSN, e.g. postgres://switchboard@127.0.0.1:5432/switchboard")
        }
        if let socket = resolvedSocketPath, socket.utf8.count > Self.maxSocketPath {
            throw ConfigurationError(
                path: unixSocket == nil ? "dispatcher.state-dir" : "dispatcher.unix-socket",
                reason: "the local socket path \(socket) is \(socket.utf8.count) bytes; the system allows at most \(Self.maxSocketPath) "
                    + "(choose a shorter path, or set dispatcher.unix-socket)")
        }
        if let socket = resolvedControlSocketPath, socket.utf8.count > Self.maxSocketPath {
            throw ConfigurationError(
                path: controlSocket == nil ? "dispatcher.state-dir" : "dispatcher.control-socket",
                reason: "the control socket path \(socket) is \(socket.utf8.count) bytes; the system allows at most \(Self.maxSocketPath) "
                    + "(choose a shorter path, or set dispatcher.control-socket)")
        }
        if let socket = resolvedControlSocketPath, socket == resolvedSocketPath {
            throw ConfigurationError(path: "dispatcher.control-socket", reason: "must differ from dispatcher.unix-socket (\(socket))")
        }
    }

    public var resolvedDatabasePath: String {
        datastoreDSN ?? (stateDir as NSString).appendingPathComponent("switchboard.db")
    }

    /// Loads `path`, or the default file when it exists, else the defaults; then applies the environment.
    public static func load(path: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> DaemonConfiguration {
        var configuration = DaemonConfiguration()
        let file = path ?? (FileManager.default.fileExists(atPath: defaultConfigFile) ? defaultConfigFile : nil)
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ConfigurationError(path: "", reason: "cannot read configuration file \(file): \(Self.whyUnreadable(file))")
            }
            let json: JSON
            do {
                json = try JSON.parse(bytes: data)
            } catch {
                throw ConfigurationError(path: "", reason: "configuration file \(file) is not valid JSON: \(error)")
            }
            try configuration.apply(json)
        }
        try configuration.apply(environment: environment)
        return configuration
    }

    /// Why a file cannot be read, in the words of the system (`No such file or directory`, `Permission denied`).
    static func whyUnreadable(_ path: String) -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return "it is a folder" }
        let fd = open(path, O_RDONLY)
        if fd >= 0 {
            close(fd)
            return "it could not be read"
        }
        return String(cString: strerror(errno))
    }

    static let sections: Set<String> = ["datastore", "dispatcher", "jobs", "security", "audit", "plugins", "etcd", "cli", "cluster", "metrics", "transfers"]
    static let auditKeys: Set<String> = ["enabled", "retention-days", "max-records", "max-records-per-caller"]
    static let securityKeys: Set<String> = [
        "unauthenticated-calls", "unauthenticated-window-seconds", "login-failure-delay-ms", "login-failures",
        "login-failure-window-seconds", "lockout-seconds", "max-connections", "max-connections-per-address",
        "unauthenticated-idle-seconds", "plain-loopback-is-secure", "query-match-steps",
        "max-local-connections", "request-head-timeout-seconds", "login-failures-per-user", "refused-calls", "secret-key-file",
    ]
    static let jobKeys: Set<String> = ["max-running", "retention-count", "retention-days", "shutdown-grace-seconds", "progress-interval-ms", "max-per-user"]
    static let datastoreKeys: Set<String> = ["driver", "dsn", "password-file", "timeout-seconds"]
    static let datastoreDrivers = ["sqlite", "postgresql"]
    static let clusterKeys: Set<String> = ["heartbeat-seconds", "node-timeout-seconds"]
    static let dispatcherKeys: Set<String> = [
        "pidfile", "websocket-port", "frontend-port", "tls", "logging", "log-level", "log-format", "syslog-socket", "syslog-facility", "control-socket", "workers", "plugin-dirs", "listen", "unix-socket",
        "state-dir", "max-running-calls", "max-queued-calls", "max-message-size", "max-outbound-messages", "max-outbound-bytes",
        "shutdown-close-seconds", "shutdown-call-grace-seconds", "stop-grace", "reload-grace-seconds", "ddp-heartbeat-seconds", "token-lifetime-seconds", "envelope-events", "max-message-size-unauthenticated",
        "max-message-size-authenticated", "tls-certificate", "tls-private-key", "public-api-docs",
        "python", "python-host", "plugin-handshake-seconds", "plugin-call-timeout-seconds", "plugin-stop-grace-seconds",
        "plugin-max-line", "plugin-max-pending-requests", "plugin-restart", "node-name",
    ]
    static let restartKeys: Set<String> = ["initial-delay-ms", "max-delay-seconds", "jitter-percent", "stable-seconds", "intensity", "window-seconds"]

    /// Applies a configuration document, refusing unknown keys and bad values by their path.
    public mutating func apply(_ json: JSON) throws {
        guard case .object(let root) = json else { throw ConfigurationError(path: "", reason: "the configuration must be a JSON object") }
        for key in root.keys where !Self.sections.contains(key) {
            throw ConfigurationError(path: key, reason: "unknown section (known: \(Self.sections.sorted().joined(separator: ", ")))")
        }
        if let datastore = root["datastore"] {
            let section = try Self.object(datastore, "datastore", known: Self.datastoreKeys)
            if let driver = section["driver"] {
                let value = try Self.string(driver, "datastore.driver")
                guard Self.datastoreDrivers.contains(value) else {
                    throw ConfigurationError(path: "datastore.driver", reason: "'\(value)' is not available; supported: \(Self.datastoreDrivers.joined(separator: ", "))")
                }
                datastoreDriver = value
            }
            if let dsn = section["dsn"] { datastoreDSN = try Self.string(dsn, "datastore.dsn") }
            if let file = section["password-file"] { datastorePasswordFile = try Self.string(file, "datastore.password-file") }
            if let seconds = section["timeout-seconds"] {
                datastoreTimeout = .seconds(try Self.integer(seconds, "datastore.timeout-seconds", 1...3_600))
            }
        }
        if let section = root["cluster"] {
            let cluster = try Self.object(section, "cluster", known: Self.clusterKeys)
            if let v = cluster["heartbeat-seconds"] { clusterHeartbeat = .seconds(try Self.integer(v, "cluster.heartbeat-seconds", 1...60)) }
            if let v = cluster["node-timeout-seconds"] {
                clusterNodeTimeout = .seconds(try Self.integer(v, "cluster.node-timeout-seconds", 2...3_600))
            }
            // Two beats missed at least: one late beat on a busy machine must not kill a node.
            guard clusterNodeTimeout >= clusterHeartbeat * 2 else {
                throw ConfigurationError(path: "cluster.node-timeout-seconds",
                                         reason: "must be at least twice cluster.heartbeat-seconds (\(clusterHeartbeat.components.seconds))")
            }
        }
        if let dispatcher = root["dispatcher"] {
            let section = try Self.object(dispatcher, "dispatcher", known: Self.dispatcherKeys)
            if let v = section["pidfile"] { pidfile = try Self.string(v, "dispatcher.pidfile") }
            if let v = section["websocket-port"] { websocketPort = try Self.port(v, "dispatcher.websocket-port") }
            if let v = section["frontend-port"] { frontendPort = v == .null ? nil : try Self.port(v, "dispatcher.frontend-port") }
            if let v = section["tls"] {
                guard case .bool(let b) = v else { throw ConfigurationError(path: "dispatcher.tls", reason: "must be true or false") }
                tls = b
            }
            if let v = section["tls-certificate"] { tlsCertificate = try Self.string(v, "dispatcher.tls-certificate") }
            if let v = section["tls-private-key"] { tlsPrivateKey = try Self.string(v, "dispatcher.tls-private-key") }
            if tls {
                guard tlsCertificate != nil else {
                    throw ConfigurationError(path: "dispatcher.tls-certificate", reason: "is required when dispatcher.tls is true (a PEM file)")
                }
                guard tlsPrivateKey != nil else {
                    throw ConfigurationError(path: "dispatcher.tls-private-key", reason: "is required when dispatcher.tls is true (a PEM file)")
                }
            }
            try applyLogging(section)
            if let v = section["plugin-dirs"] {
                guard case .array(let dirs) = v else { throw ConfigurationError(path: "dispatcher.plugin-dirs", reason: "must be a list of folders") }
                pluginDirs = try dirs.enumerated().map { try Self.string($1, "dispatcher.plugin-dirs.\($0)") }
            }
            try applyExternalPlugins(section)
            if let v = section["listen"] { listen = try Self.string(v, "dispatcher.listen") }
            if let v = section["public-api-docs"] {
                guard case .bool(let b) = v else { throw ConfigurationError(path: "dispatcher.public-api-docs", reason: "must be true or false") }
                publicAPIDocs = b
            }
            if let v = section["unix-socket"] { unixSocket = try Self.string(v, "dispatcher.unix-socket", allowEmpty: true) }
            if let v = section["workers"] {
                guard case .array(let names) = v else { throw ConfigurationError(path: "dispatcher.workers", reason: "must be a list of worker names") }
                workers = try names.enumerated().map { try Self.string($1, "dispatcher.workers.\($0)") }
            }
            if let v = section["control-socket"] { controlSocket = try Self.string(v, "dispatcher.control-socket", allowEmpty: true) }
            if let v = section["state-dir"] { stateDir = try Self.string(v, "dispatcher.state-dir") }
            if let v = section["node-name"] { nodeName = try Self.nodeName(try Self.string(v, "dispatcher.node-name"), "dispatcher.node-name") }
            if let v = section["max-running-calls"] { maxRunningCalls = try Self.integer(v, "dispatcher.max-running-calls", 1...10_000) }
            if let v = section["max-queued-calls"] { maxQueuedCalls = try Self.integer(v, "dispatcher.max-queued-calls", 0...100_000) }
            if let v = section["max-outbound-messages"] { maxOutboundMessages = try Self.integer(v, "dispatcher.max-outbound-messages", 16...1_000_000) }
            if let v = section["max-outbound-bytes"] { maxOutboundBytes = try Self.integer(v, "dispatcher.max-outbound-bytes", 65_536...(1 << 30)) }
            if let v = section["ddp-heartbeat-seconds"] { ddpHeartbeat = .seconds(try Self.integer(v, "dispatcher.ddp-heartbeat-seconds", 0...3600)) }
            if let v = section["token-lifetime-seconds"] { envelopeTokenLifetime = try Self.integer(v, "dispatcher.token-lifetime-seconds", 1...2_592_000) }
            if let v = section["envelope-events"] {
                guard let frames = EnvelopeEventFrames(rawValue: try Self.string(v, "dispatcher.envelope-events")) else {
                    throw ConfigurationError(path: "dispatcher.envelope-events", reason: "must be sysadm or freenas")
                }
                envelopeEvents = frames
            }
            if let v = section["reload-grace-seconds"] { pluginReloadGrace = .seconds(try Self.integer(v, "dispatcher.reload-grace-seconds", 0...3600)) }
            if let v = section["shutdown-call-grace-seconds"] { callGrace = .seconds(try Self.integer(v, "dispatcher.shutdown-call-grace-seconds", 0...600)) }
            if let v = section["shutdown-close-seconds"] { connectionCloseGrace = .seconds(try Self.integer(v, "dispatcher.shutdown-close-seconds", 0...600)) }
            if let v = section["max-message-size"] { maxMessageSize = try Self.integer(v, "dispatcher.max-message-size", 1024...(64 << 20)) }
            if let v = section["max-message-size-unauthenticated"] {
                maxMessageSizeUnauthenticated = try Self.integer(v, "dispatcher.max-message-size-unauthenticated", 1024...(64 << 20))
            }
            if let v = section["max-message-size-authenticated"] {
                maxMessageSizeAuthenticated = try Self.integer(v, "dispatcher.max-message-size-authenticated", 1024...(64 << 20))
            }
        }
        if let section = root["jobs"] {
            let jobs = try Self.object(section, "jobs", known: Self.jobKeys)
            if let v = jobs["max-running"] { self.jobs.maxRunning = try Self.integer(v, "jobs.max-running", 1...10_000) }
            if let v = jobs["max-per-user"] { self.jobs.maxPerUser = try Self.integer(v, "jobs.max-per-user", 1...1_000_000) }
            if let v = jobs["retention-count"] { self.jobs.retentionCount = try Self.integer(v, "jobs.retention-count", 1...10_000_000) }
            if let v = jobs["retention-days"] { self.jobs.retentionAge = .seconds(86_400 * (try Self.integer(v, "jobs.retention-days", 1...36_500))) }
            if let v = jobs["shutdown-grace-seconds"] { self.jobs.shutdownGrace = .seconds(try Self.integer(v, "jobs.shutdown-grace-seconds", 0...3_600)) }
            if let v = jobs["progress-interval-ms"] { self.jobs.progressInterval = .milliseconds(try Self.integer(v, "jobs.progress-interval-ms", 0...60_000)) }
        }
        if let section = root["security"] {
            let security = try Self.object(section, "security", known: Self.securityKeys)
            if let v = security["unauthenticated-calls"] { guardLimits.unauthenticatedCalls = try Self.integer(v, "security.unauthenticated-calls", 1...1_000_000) }
            if let v = security["unauthenticated-window-seconds"] {
                guardLimits.unauthenticatedWindow = .seconds(try Self.integer(v, "security.unauthenticated-window-seconds", 1...86_400))
            }
            if let v = security["login-failure-delay-ms"] { guardLimits.loginFailureDelay = .milliseconds(try Self.integer(v, "security.login-failure-delay-ms", 0...60_000)) }
            if let v = security["login-failures"] { guardLimits.loginFailures = try Self.integer(v, "security.login-failures", 1...1_000_000) }
            if let v = security["refused-calls"] { guardLimits.refusedCalls = try Self.integer(v, "security.refused-calls", 1...1_000_000) }
            if let v = security["login-failures-per-user"] {
                guardLimits.loginFailuresPerUser = try Self.integer(v, "security.login-failures-per-user", 1...1_000_000)
            }
            if let v = security["login-failure-window-seconds"] {
                guardLimits.loginFailureWindow = .seconds(try Self.integer(v, "security.login-failure-window-seconds", 1...86_400))
            }
            if let v = security["max-connections"] { maxConnections = try Self.integer(v, "security.max-connections", 1...10_000_000) }
            if let v = security["max-connections-per-address"] {
                maxConnectionsPerAddress = try Self.integer(v, "security.max-connections-per-address", 1...10_000_000)
            }
            if let v = security["max-local-connections"] { maxLocalConnections = try Self.integer(v, "security.max-local-connections", 1...100_000) }
            if let v = security["request-head-timeout-seconds"] {
                requestHeadTimeout = .seconds(try Self.integer(v, "security.request-head-timeout-seconds", 1...3_600))
            }
            if let v = security["unauthenticated-idle-seconds"] {
                sessionLimits.unauthenticatedIdle = .seconds(try Self.integer(v, "security.unauthenticated-idle-seconds", 0...86_400))
            }
            if let v = security["plain-loopback-is-secure"] {
                guard case .bool(let b) = v else { throw ConfigurationError(path: "security.plain-loopback-is-secure", reason: "must be true or false") }
                guardLimits.plainLoopbackIsSecure = b
            }
            if let v = security["query-match-steps"] {
                queryMatchSteps = try Self.integer(v, "security.query-match-steps", 1_000...1_000_000_000)
            }
            if let v = security["secret-key-file"] { secretKeyFile = try Self.string(v, "security.secret-key-file") }
            if let v = security["lockout-seconds"] { guardLimits.lockout = .seconds(try Self.integer(v, "security.lockout-seconds", 0...31_536_000)) }
        }
        if let section = root["audit"] {
            let audit = try Self.object(section, "audit", known: Self.auditKeys)
            if let v = audit["enabled"] {
                guard case .bool(let b) = v else { throw ConfigurationError(path: "audit.enabled", reason: "must be true or false") }
                self.audit.enabled = b
            }
            if let v = audit["retention-days"] { self.audit.retention = .seconds(86_400 * (try Self.integer(v, "audit.retention-days", 1...36_500))) }
            if let v = audit["max-records"] { self.audit.maxRecords = try Self.integer(v, "audit.max-records", 1_000...100_000_000) }
            if let v = audit["max-records-per-caller"] {
                self.audit.maxRecordsPerCaller = try Self.integer(v, "audit.max-records-per-caller", 1...1_000_000)
            }
        }
        if let plugins = root["plugins"] {
            guard case .object(let section) = plugins else { throw ConfigurationError(path: "plugins", reason: "must be an object") }
            for (name, value) in section {
                guard case .object(let options) = value else { throw ConfigurationError(path: "plugins.\(name)", reason: "must be an object") }
                if let enabled = options["enabled"], enabled.boolValue == nil {
                    throw ConfigurationError(path: "plugins.\(name).enabled", reason: "must be true or false")
                }
            }
            self.plugins = plugins
        }
        try applyStopGrace(root)
        try applyMetrics(root)
        try applyTransfers(root)
    }

    static func object(_ json: JSON, _ path: String, known: Set<String>) throws -> JSONObject {
        guard case .object(let object) = json else { throw ConfigurationError(path: path, reason: "must be an object") }
        for key in object.keys where !known.contains(key) {
            throw ConfigurationError(path: "\(path).\(key)", reason: "unknown key (known: \(known.sorted().joined(separator: ", ")))")
        }
        return object
    }

    /// The `dispatcher.python*` and `dispatcher.plugin-*` keys.
    mutating func applyExternalPlugins(_ section: JSONObject) throws {
        if let v = section["python"] { externalPlugins.python = try Self.string(v, "dispatcher.python") }
        if let v = section["python-host"] { externalPlugins.pythonHost = try Self.string(v, "dispatcher.python-host") }
        if let v = section["plugin-handshake-seconds"] {
            externalPlugins.handshakeTimeout = .seconds(try Self.integer(v, "dispatcher.plugin-handshake-seconds", 1...600))
        }
        if let v = section["plugin-call-timeout-seconds"] {
            externalPlugins.callTimeout = .seconds(try Self.integer(v, "dispatcher.plugin-call-timeout-seconds", 1...86_400))
        }
        if let v = section["plugin-stop-grace-seconds"] {
            externalPlugins.stopGrace = .seconds(try Self.integer(v, "dispatcher.plugin-stop-grace-seconds", 0...600))
        }
        if let v = section["plugin-max-line"] { externalPlugins.maxLine = try Self.integer(v, "dispatcher.plugin-max-line", 1024...(256 << 20)) }
        if let v = section["plugin-max-pending-requests"] {
            externalPlugins.maxPendingRequests = try Self.integer(v, "dispatcher.plugin-max-pending-requests", 1...100_000)
        }
        if let v = section["plugin-restart"] {
            let restart = try Self.object(v, "dispatcher.plugin-restart", known: Self.restartKeys)
            var policy = externalPlugins.restart
            if let v = restart["initial-delay-ms"] { policy.initialDelay = .milliseconds(try Self.integer(v, "dispatcher.plugin-restart.initial-delay-ms", 1...600_000)) }
            if let v = restart["max-delay-seconds"] { policy.maxDelay = .seconds(try Self.integer(v, "dispatcher.plugin-restart.max-delay-seconds", 1...86_400)) }
            if let v = restart["jitter-percent"] { policy.jitter = Double(try Self.integer(v, "dispatcher.plugin-restart.jitter-percent", 0...100)) / 100 }
            if let v = restart["stable-seconds"] { policy.stablePeriod = .seconds(try Self.integer(v, "dispatcher.plugin-restart.stable-seconds", 1...86_400)) }
            if let v = restart["intensity"] { policy.intensity = try Self.integer(v, "dispatcher.plugin-restart.intensity", 1...1_000) }
            if let v = restart["window-seconds"] { policy.window = .seconds(try Self.integer(v, "dispatcher.plugin-restart.window-seconds", 1...86_400)) }
            guard policy.initialDelay <= policy.maxDelay else {
                throw ConfigurationError(path: "dispatcher.plugin-restart.initial-delay-ms", reason: "must not be longer than max-delay-seconds")
            }
            externalPlugins.restart = policy
        }
    }

    static func string(_ json: JSON, _ path: String, allowEmpty: Bool = false) throws -> String {
        guard case .string(let s) = json, allowEmpty || !s.isEmpty else {
            throw ConfigurationError(path: path, reason: "must be a non-empty string")
        }
        return s
    }

    static func integer(_ json: JSON, _ path: String, _ range: ClosedRange<Int>) throws -> Int {
        guard case .int(let i) = json, range.contains(Int(i)) else {
            throw ConfigurationError(path: path, reason: "must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return Int(i)
    }

    static func port(_ json: JSON, _ path: String) throws -> Int {
        try integer(json, path, 0...65535)
    }
}
