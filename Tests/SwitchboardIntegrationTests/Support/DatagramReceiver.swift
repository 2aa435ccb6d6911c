import Foundation
import Synchronization

/// A UNIX datagram socket bound where a test wants the daemon's syslog messages (in place of `/dev/log`); a
/// thread of its own keeps what arrives.
final class DatagramReceiver: Sendable {
    final class Shared: Sendable {
        let messages = Mutex<[String]>([])
        let running = Atomic(true)
    }

    let path: String
    private let fd: Int32
    private let shared = Shared()

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        // Reads wake every 100 ms to see whether the receiver was closed.
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [fd, shared] in
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while shared.running.load(ordering: .relaxed) {
                let count = recv(fd, &buffer, buffer.count, 0)
                if count > 0 { shared.messages.withLock { $0.append(String(decoding: buffer.prefix(count), as: UTF8.self)) } }
            }
            close(fd)
        }
        thread.start()
    }

    var received: [String] { shared.messages.withLock { $0 } }

    deinit {
        shared.running.store(false, ordering: .relaxed)
        unlink(path)
    }
}
