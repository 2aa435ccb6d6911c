#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's limit on open files. The daemon raises its soft limit to the hard one at start (the soft
/// default is often 1,024, below the connection caps), then fits the TCP cap under what it got, keeping room
/// for the local socket's pool and its own files (datastore, job logs, plugins).
enum FileDescriptorLimit {
    /// Files the daemon keeps for itself besides connections.
    static let reserve = 64

    /// Raises the soft limit to the hard limit; returns the soft limit in force afterwards.
    static func raise() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1_024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur > rlim_t(Int32.max) ? Int(Int32.max) : Int(limit.rlim_cur)
    }

    /// The TCP socket cap that fits `softLimit`: at most `configured`, leaving the local pool and `reserve`.
    static func tcpCap(configured: Int, local: Int, softLimit: Int) -> Int {
        min(configured, max(16, softLimit - local - reserve))
    }
}
