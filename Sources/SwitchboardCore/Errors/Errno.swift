/// POSIX error numbers (Linux values) and middlewared's own, the errno vocabulary every dialect reports.
public enum Errno {
    public static let EPERM: Int32 = 1
    public static let ENOENT: Int32 = 2
    public static let ESRCH: Int32 = 3
    public static let EINTR: Int32 = 4
    public static let EIO: Int32 = 5
    public static let E2BIG: Int32 = 7
    public static let EAGAIN: Int32 = 11
    public static let ENOMEM: Int32 = 12
    public static let EACCES: Int32 = 13
    public static let EFAULT: Int32 = 14
    public static let EBUSY: Int32 = 16
    public static let EEXIST: Int32 = 17
    public static let ENOTDIR: Int32 = 20
    public static let EINVAL: Int32 = 22
    public static let ENOSPC: Int32 = 28
    /// The other end of a transfer went away (a job that stopped reading its upload, a download left unread).
    public static let EPIPE: Int32 = 32
    public static let ENOTSUP: Int32 = 95
    /// The daemon is stopping and takes no new calls.
    public static let ESHUTDOWN: Int32 = 108
    public static let ETOOMANYREFS: Int32 = 109
    public static let ETIMEDOUT: Int32 = 110
    /// A node of the cluster stopped answering (its jobs failed by a survivor).
    public static let EHOSTDOWN: Int32 = 112
    public static let ECANCELED: Int32 = 125
    /// middlewared's extension: no such method.
    public static let ENOMETHOD: Int32 = 201
    /// middlewared's extension: the call needs an authenticated session.
    public static let ENOTAUTHENTICATED: Int32 = 207

    static let names: [Int32: String] = [
        1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO", 7: "E2BIG", 11: "EAGAIN", 12: "ENOMEM",
        13: "EACCES", 14: "EFAULT", 16: "EBUSY", 17: "EEXIST", 20: "ENOTDIR", 22: "EINVAL", 28: "ENOSPC", 32: "EPIPE",
        95: "ENOTSUP", 108: "ESHUTDOWN", 109: "ETOOMANYREFS", 110: "ETIMEDOUT", 112: "EHOSTDOWN", 125: "ECANCELED", 201: "ENOMETHOD",
        207: "ENOTAUTHENTICATED",
    ]

    /// The symbolic name, e.g. `EINVAL` for 22; unknown numbers read `E<number>`.
    public static func name(_ errno: Int32) -> String {
        names[errno] ?? "E\(errno)"
    }
}
