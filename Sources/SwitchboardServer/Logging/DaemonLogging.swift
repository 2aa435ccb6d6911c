import Foundation
import Logging
import Synchronization
import SwitchboardCore

/// The daemon's logging, configured once (`dispatcher.logging`, `dispatcher.log-format`, `dispatcher.log-level`)
/// and shared by every logger: one destination, one format, and one level that `switchboard ctl log-level`
/// changes at run time for all of them at once.
///
/// Every line carries what it belongs to: a plugin's logger names the plugin, a call's logger the session and
/// method, and anything logged while a job's body runs names the job (read from the task, so even a library's
/// logger used inside a job says so).
public final class DaemonLogging: Sendable {
    let sink: LogSink
    public let format: LogFormat
    let hostname: String
    private let levelIndex: Atomic<Int>

    public init(destination: LogDestination, format: LogFormat, level: Logger.Level) throws {
        sink = try LogSink(destination)
        self.format = format
        levelIndex = Atomic(Logger.Level.allCases.firstIndex(of: level) ?? 2)
        var name = [CChar](repeating: 0, count: 256)
        hostname = gethostname(&name, name.count) == 0 ? String(cString: name) : "-"
    }

    /// The daemon's logging as configured.
    public convenience init(_ configuration: DaemonConfiguration) throws {
        try self.init(destination: configuration.logDestination, format: configuration.logFormat,
                      level: Logger.Level(rawValue: configuration.logLevel) ?? .info)
    }

    public var destination: LogDestination { sink.destination }

    public var level: Logger.Level {
        let index = levelIndex.load(ordering: .relaxed)
        return Logger.Level.allCases.indices.contains(index) ? Logger.Level.allCases[index] : .info
    }

    /// Changes the level of every logger of the daemon, from the next line on.
    public func setLevel(_ level: Logger.Level) {
        levelIndex.store(Logger.Level.allCases.firstIndex(of: level) ?? 2, ordering: .relaxed)
    }

    /// Reopens the log file (SIGUSR1, after logrotate moved it); nothing for stderr and syslog.
    public func reopen() throws {
        try sink.reopen()
    }

    public func handler(label: String) -> DaemonLogHandler {
        DaemonLogHandler(label: label, logging: self, metadataProvider: Self.metadataProvider)
    }

    /// Makes this the process's logging system.
    public func bootstrap() {
        LoggingSystem.bootstrap({ label, _ in self.handler(label: label) }, metadataProvider: Self.metadataProvider)
    }

    /// The job whose body is running in the logging task.
    static let metadataProvider = Logger.MetadataProvider {
        guard let job = JobManager.currentJobID else { return [:] }
        return ["job": .stringConvertible(job)]
    }
}
