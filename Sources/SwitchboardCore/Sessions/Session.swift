#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Where a session's connection comes from.
public enum SessionOrigin: Sendable, Equatable, CustomStringConvertible {
    case tcp(address: String, port: Int)
    /// A local socket peer with its kernel credentials.
    case unix(uid: UInt32, gid: UInt32, pid: Int32)
    /// Calls the daemon makes to itself (plugins, jobs).
    case `internal`

    public var description: String {
        switch self {
        case .tcp(let address, let port): return "\(address):\(port)"
        case .unix(let uid, _, let pid): return "unix:uid=\(uid),pid=\(pid)"
        case .internal: return "internal"
        }
    }

    public var isLocal: Bool {
        switch self {
        case .unix, .internal: return true
        case .tcp: return false
        }
    }

    /// A TCP peer on this machine (127.0.0.0/8, ::1, or either mapped into IPv6): its traffic never leaves
    /// the host, unless a reverse proxy on the host relays remote clients (see `security.plain-loopback-is-secure`).
    public var isLoopback: Bool {
        guard case .tcp(let address, _) = self else { return false }
        return address.hasPrefix("127.") || address == "::1" || address.hasPrefix("::ffff:127.")
    }
}

/// Per-session switches set by `core.set_options`.
public struct SessionOptions: Sendable, Equatable {
    /// Job methods reply with the job id at once (middlewared's default) instead of the job's result.
    public var legacyJobs = true
    /// `core.get_methods` lists private methods too.
    public var privateMethods = false
    /// Errors carry a Python exception name in `data.py_exception`.
    public var pyExceptions = false
    /// FreeNAS 10's protocol features the client enabled (`management.enable_features`).
    public var features: Set<String> = []

    public init() {}

    public var json: JSON {
        ["legacy_jobs": .bool(legacyJobs), "private_methods": .bool(privateMethods), "py_exceptions": .bool(pyExceptions)]
    }
}

/// One client connection: its dialect, credentials, options and call limiter.
///
/// State is behind a mutex, not an actor: it is read on every call, and a lock is far cheaper than a hop.
public final class Session: Sendable {
    public let id: String
    public let dialect: String
    public let origin: SessionOrigin
    /// `origin` as text, made once: the audit trail records it with every write.
    public let address: String
    /// Whether the connection is TLS (wss://, https://).
    public let encrypted: Bool
    public let limiter: CallLimiter
    /// Where events for this session go; `nil` for sessions that cannot receive events (internal calls).
    public let outbox: (any EventOutbox)?
    public let createdAt: ContinuousClock.Instant
    /// Wall-clock creation time, milliseconds since the epoch, for `auth.sessions`.
    public let createdAtMillis: Int64

    struct State {
        var credentials: Credentials?
        var options = SessionOptions()
    }

    private let state: Mutex<State>
    /// When the client last sent anything, in monotonic nanoseconds: written on every message, so an atomic.
    private let activity = Atomic<Int64>(0)

    public init(id: String = Session.makeID(), dialect: String, origin: SessionOrigin, encrypted: Bool = false,
                limits: CallLimiter.Limits = .init(), credentials: Credentials? = nil, outbox: (any EventOutbox)? = nil) {
        self.id = id
        self.encrypted = encrypted
        self.address = origin.description
        self.outbox = outbox
        self.dialect = dialect
        self.origin = origin
        self.limiter = CallLimiter(limits: limits)
        self.createdAt = .now
        self.createdAtMillis = Self.wallClockMillis
        self.state = Mutex(State(credentials: credentials))
        self.activity.store(Self.monotonicNow, ordering: .relaxed)
    }

    /// Notes that the client sent something now.
    public func touch() { activity.store(Self.monotonicNow, ordering: .relaxed) }

    /// `monotonicNow` of the client's last message (or of the session's creation).
    public var lastActivity: Int64 { activity.load(ordering: .relaxed) }

    /// Wall-clock milliseconds since the epoch: what `{"$date": ms}` fields carry.
    public static var wallClockMillis: Int64 {
        var wall = timespec()
        clock_gettime(CLOCK_REALTIME, &wall)
        return Int64(wall.tv_sec) * 1000 + Int64(wall.tv_nsec) / 1_000_000
    }

    /// Monotonic nanoseconds, cheap enough to take on every message.
    public static var monotonicNow: Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    public var credentials: Credentials? {
        get { state.withLock { $0.credentials } }
        set { state.withLock { $0.credentials = newValue } }
    }

    public var isAuthenticated: Bool { state.withLock { $0.credentials != nil } }

    /// Whether the session may receive `event` now (see `EventBus.admits`). Asked for every subscriber of
    /// every publish, so it reads the credentials in place instead of copying them out of the lock.
    func admits(_ event: Event, type: EventTypeDescriptor?) -> Bool {
        state.withLock { state in
            if state.credentials?.isFullAdmin == true { return true }
            guard let credentials = state.credentials else { return false }
            return EventBus.admits(credentials, type: type, event: event)
        }
    }

    public var options: SessionOptions {
        get { state.withLock { $0.options } }
        set { state.withLock { $0.options = newValue } }
    }

    /// A random UUID (version 4) in its usual textual form.
    public static func makeID() -> String {
        var rng = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = bytes.map { byte in
            let s = String(byte, radix: 16)
            return s.count == 1 ? "0" + s : s
        }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(separator: "-")
    }

    /// A session for the daemon's own calls, with full rights.
    public static func makeInternal() -> Session {
        Session(dialect: "internal", origin: .internal, limits: .init(maxRunning: 1_000_000, maxQueued: 0), credentials: .root)
    }
}
