import Synchronization

/// Every open connection's session, with a way to close it, and one sweeper that closes connections that stay
/// unauthenticated and silent too long. (The connection caps are the server's: it counts sockets from the
/// moment they are accepted, before any of them has a session.)
///
/// One directory and one sweeper serve all connections, so an idle connection costs no task of its own.
public final class SessionDirectory: Sendable {
    public struct Limits: Sendable, Equatable {
        /// A connection that has not authenticated and has sent nothing for this long is closed; zero: never.
        public var unauthenticatedIdle: Duration = .seconds(60)

        public init() {}
    }

    /// Closes a connection with a WebSocket close code and reason.
    public typealias Closer = @Sendable (_ code: UInt16, _ reason: String) -> Void

    struct Entry {
        let session: Session
        let close: Closer
    }

    struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
    }

    public let limits: Limits
    private let state = Mutex(State())

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Registers a new connection's session.
    public func open(_ session: Session, close: @escaping Closer) {
        state.withLock { $0.entries[ObjectIdentifier(session)] = Entry(session: session, close: close) }
    }

    /// Forgets a connection that ended.
    public func closed(_ session: Session) {
        state.withLock { _ = $0.entries.removeValue(forKey: ObjectIdentifier(session)) }
    }

    /// The open sessions.
    public var sessions: [Session] { state.withLock { $0.entries.values.map(\.session) } }

    /// The open session with this id.
    public func session(id: String) -> Session? {
        state.withLock { $0.entries.values.first { $0.session.id == id }?.session }
    }

    /// Calls running now on every session (those waiting for a slot not counted).
    public var callsInFlight: Int {
        state.withLock { $0.entries.values.reduce(0) { $0 + $1.session.limiter.running } }
    }

    public var count: Int { state.withLock { $0.entries.count } }

    /// Closes the connection of the session with this id; false when there is none.
    @discardableResult
    public func terminate(id: String, code: UInt16 = 1008, reason: String = "session terminated") -> Bool {
        let entry = state.withLock { $0.entries.values.first { $0.session.id == id } }
        entry?.close(code, reason)
        return entry != nil
    }

    /// Closes every connection unauthenticated and silent for `limits.unauthenticatedIdle`; returns how many.
    @discardableResult
    public func sweep(now: Int64 = Session.monotonicNow) -> Int {
        guard limits.unauthenticatedIdle > .zero else { return 0 }
        let idle = limits.unauthenticatedIdle.nanoseconds
        let stale = state.withLock { state in
            state.entries.values.filter { !$0.session.isAuthenticated && now - $0.session.lastActivity >= idle }
        }
        let seconds = limits.unauthenticatedIdle.components.seconds
        for entry in stale { entry.close(1008, "not authenticated within \(seconds) s") }
        return stale.count
    }

    /// Sweeps about four times per idle period until cancelled.
    public func runSweeper() async {
        guard limits.unauthenticatedIdle > .zero else { return }
        let tick = max(limits.unauthenticatedIdle / 4, .milliseconds(100))
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: tick)
            } catch {
                return
            }
            sweep()
        }
    }
}
