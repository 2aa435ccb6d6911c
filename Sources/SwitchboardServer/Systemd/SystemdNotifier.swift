import Foundation

/// systemd's notification protocol (sd_notify(3)): newline-separated `KEY=value` assignments in one datagram to
/// the socket named by `NOTIFY_SOCKET` (a path, or `@name` for an abstract socket). Without the variable the
/// daemon was not started by systemd with `Type=notify`, and there is no notifier.
///
/// A send never blocks (a full socket drops the message; systemd reads it promptly) and never fails the daemon.
public final class SystemdNotifier: Sendable {
    let path: String
    private let fd: Int32

    /// The notifier `environment` names, or nil.
    public init?(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let path = environment["NOTIFY_SOCKET"], !path.isEmpty, path.utf8.count < 108,
              path.hasPrefix("/") || path.hasPrefix("@") else { return nil }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    /// Sends the assignments, e.g. `["READY=1", "STATUS=ready"]`.
    public func send(_ assignments: [String]) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        // An abstract socket's name starts with a zero byte where the path has its '@'.
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
        let message = Array(assignments.joined(separator: "\n").utf8)
        _ = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { target in
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL), target, length) }
            }
        }
    }

    /// `MONOTONIC_USEC=`, which systemd wants beside `RELOADING=1` (CLOCK_MONOTONIC, microseconds).
    static var monotonicMicroseconds: String {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return "MONOTONIC_USEC=\(Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1_000)"
    }
}
