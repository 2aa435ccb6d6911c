import Synchronization

/// Every open connection's session, with a way to close it: caps on connections in total and per client
/// address, and one sweeper that closes connections that stay unauthenticated and silent too long.
///
/// One directory and one sweeper serve all connections, so an idle connection costs no task of its own.
public final class SessionDirectory: Sendable {
    public struct Limits: Sendable, Equatable {
        /// Open WebSocket connections at most, and from one TCP address at most (the local socket counts only
        /// towards the total).
        public var maxConnections: Int = 20_000
        public var maxConnectionsPerAddress: Int = 1_000
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
        var perAddress: [String: Int] = [:]
    }

    public let limits: Limits
    private let state = Mutex(State())

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Registers a new connection's session.
    /// - Throws: EBUSY when the total or the address's cap is reached; the caller closes the connection.
    public func open(_ session: Session, close: @escaping Closer) throws(CallError) {
        let address = ClientGuard.address(session.origin)
        let refusal = state.withLock { state -> String? in
            if state.entries.count >= limits.maxConnections { return "Too many connections (\(limits.maxConnections))" }
            if let address {
                let count = state.perAddress[address, default: 0]
                if count >= limits.maxConnectionsPerAddress {
                    return "Too many connections from \(address) (\(limits.maxConnectionsPerAddress))"
                }
                state.perAddress[address] = count + 1
            }
            state.entries[ObjectIdentifier(session)] = Entry(session: session, close: close)
            return nil
        }
        if let refusal { throw CallError.busy(refusal) }
    }

    /// Forgets a connection that ended.
    public func closed(_ session: Session) {
        let address = ClientGuard.address(session.origin)
        state.withLock { state in
            guard state.entries.removeValue(forKey: ObjectIdentifier(session)) != nil else { return }
            if let address {
                let count = state.perAddress[address, default: 1] - 1
                state.perAddress[address] = count > 0 ? count : nil
            }
        }
    }

    /// The open sessions.
    public var sessions: [Session] { state.withLock { $0.entries.values.map(\.session) } }

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
