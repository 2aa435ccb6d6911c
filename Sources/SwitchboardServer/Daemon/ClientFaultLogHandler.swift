import Logging

/// The listeners' log handler: what a client got wrong is not the daemon's error.
///
/// HummingbirdWebSocket logs at error level any failure between accepting a connection and its upgrade: a plain
/// `ws://` client on the TLS port, a client that rejects the daemon's certificate, a peer that resets mid-request.
/// Each is the client's problem, and on a daemon exposed to a network they would drown the real errors; they are
/// logged at debug level, with their detail, under the same label.
struct ClientFaultLogHandler: LogHandler {
    /// Messages that only ever report a client's failure.
    static let clientFaults: Set<String> = ["Error handling upgrade result"]

    var base: any LogHandler

    var logLevel: Logger.Level {
        get { base.logLevel }
        set { base.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { base.metadata }
        set { base.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { base[metadataKey: key] }
        set { base[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        if event.level > .debug, Self.clientFaults.contains(event.message.description) {
            guard base.logLevel <= .debug else { return }
            event.level = .debug
        }
        base.log(event: event)
    }

    /// `logger` with this handler in front of its own.
    static func wrapping(_ logger: Logger) -> Logger {
        var wrapped = logger
        wrapped.handler = ClientFaultLogHandler(base: logger.handler)
        return wrapped
    }
}
