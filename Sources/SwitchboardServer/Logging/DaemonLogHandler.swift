import Logging

/// A logger of the daemon's: writes to `DaemonLogging`'s destination in its format, at its level.
///
/// Setting a logger's `logLevel` can only raise the bar for that logger (a driver quieted to warnings); the level
/// that applies is the higher of that and the daemon's, so `ctl log-level debug` opens every logger but those.
public struct DaemonLogHandler: LogHandler {
    let label: String
    let logging: DaemonLogging
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private var floor: Logger.Level = .trace

    init(label: String, logging: DaemonLogging, metadataProvider: Logger.MetadataProvider?) {
        self.label = label
        self.logging = logging
        self.metadataProvider = metadataProvider
    }

    public var logLevel: Logger.Level {
        get { max(logging.level, floor) }
        set { floor = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty { merged.merge(provided) { $1 } }
        if let own = event.metadata, !own.isEmpty { merged.merge(own) { $1 } }
        switch logging.sink.destination {
        case .syslog(_, let facility):
            logging.sink.write(LogRecordFormatter.syslog(event, label: label, metadata: merged, facility: facility, hostname: logging.hostname))
        case .stderr, .file:
            switch logging.format {
            case .text: logging.sink.write(LogRecordFormatter.text(event, label: label, metadata: merged))
            case .json: logging.sink.write(LogRecordFormatter.json(event, label: label, metadata: merged))
            }
        }
    }
}
