import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One daemon per state folder: an exclusive `flock` on `<state>/switchboard.lock`, holding the owner's pid.
///
/// The kernel drops the lock when its process dies, however it dies, so a lock file left by a dead daemon
/// is simply taken over; only a live holder refuses the start.
public final class InstanceLock: Sendable {
    public struct HeldError: Error, CustomStringConvertible {
        public var path: String
        public var pid: String
        public var description: String {
            "another switchboard (pid \(pid.isEmpty ? "unknown" : pid)) is already running with this state folder (lock \(path))"
        }
    }

    public let path: String
    let descriptor: Int32
    /// The pid found in a lock that was free to take: a daemon that died without cleaning up.
    public let previousOwner: String?

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        let previous = Self.readPid(fd)
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw HeldError(path: path, pid: previous)
        }
        _ = ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
        descriptor = fd
        previousOwner = previous.isEmpty ? nil : previous
    }

    static func readPid(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = pread(fd, &buffer, 31, 0)
        guard count > 0 else { return "" }
        return String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public func release() {
        _ = ftruncate(descriptor, 0)
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
