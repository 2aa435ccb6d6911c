import ServiceLifecycle

/// A service of the daemon's group that does nothing until the group begins its graceful shutdown (a signal,
/// `ctl stop`), then tells: the first moment the daemon knows it is stopping, before the listeners close.
struct ShutdownNotice: Service {
    let notice: @Sendable () -> Void

    func run() async throws {
        try? await gracefulShutdown()
        notice()
    }
}
