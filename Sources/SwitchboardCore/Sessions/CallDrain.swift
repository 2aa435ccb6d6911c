import Synchronization

/// The first step of a stop: from `begin` on, clients' new calls are refused (ESHUTDOWN) so that the calls in
/// flight can finish within the shutdown's call grace, before the connections are closed and what still runs
/// is interrupted. Jobs and the daemon's own calls are not affected: they have a grace of their own.
///
/// The operator's calls stay open while the daemon drains: `control.*` (so `switchboard ctl status` shows the
/// stop under way and a second `ctl stop` hurries it) and `core.ping` (liveness).
///
/// One relaxed atomic read per call; the method's name is looked at only while draining.
public final class CallDrain: Sendable {
    private let draining = Atomic<Bool>(false)

    public init() {}

    public var isDraining: Bool { draining.load(ordering: .relaxed) }

    public func begin() { draining.store(true, ordering: .relaxed) }

    /// Whether `method` is refused now.
    @inline(__always)
    public func refuses(_ method: String) -> Bool {
        guard isDraining else { return false }
        return !(method == MethodName.ping || method.hasPrefix(Self.operatorPrefix))
    }

    static let operatorPrefix = "control."

    public static let refusal = CallError(Errno.ESHUTDOWN, "The daemon is stopping: no new calls are taken")
}
