import Foundation
import Synchronization

/// The open end of a `LogDestination`: writes whole lines, one at a time, never interleaved.
///
/// A file is opened for appending and can be reopened (logrotate moves it away, then signals). Syslog is a
/// connected datagram socket written without blocking: a line the syslog daemon cannot take right now (its socket
/// full, or the daemon restarting) is dropped and counted rather than stalling the event loop that logged it; the
/// socket is reconnected at most once a second, and the count is reported once lines get through again.
final class LogSink: Sendable {
    struct State {
        var fd: Int32 = -1
        var dropped = 0
        var lastConnect: ContinuousClock.Instant?
    }

    let destination: LogDestination
    private let state = Mutex(State())

    /// Opens the destination.
    /// - Throws: `StartError`-worthy reasons: the file cannot be opened, or no syslog daemon listens at the socket.
    init(_ destination: LogDestination) throws {
        self.destination = destination
        switch destination {
        case .stderr:
            state.withLock { $0.fd = STDERR_FILENO }
        case .file(let path):
            let fd = try Self.openFile(path)
            state.withLock { $0.fd = fd }
        case .syslog(let socket, _):
            let fd = try Self.connect(socket)
            state.withLock { $0.fd = fd }
        }
    }

    deinit {
        let fd = state.withLock { $0.fd }
        if fd > STDERR_FILENO { close(fd) }
    }

    /// Writes one line (or one syslog message).
    func write(_ bytes: [UInt8]) {
        switch destination {
        case .stderr, .file:
            state.withLock { state in Self.writeAll(state.fd, bytes) }
        case .syslog(let socket, _):
            let recovered = state.withLock { state -> Int? in
                if state.fd < 0 || !Self.send(state.fd, bytes) {
                    // Reconnect (a restarted syslog daemon has a new socket), at most once a second.
                    let now = ContinuousClock.now
                    if state.lastConnect.map({ $0.duration(to: now) >= .seconds(1) }) ?? true {
                        state.lastConnect = now
                        if state.fd >= 0 { close(state.fd) }
                        state.fd = (try? Self.connect(socket)) ?? -1
                        if state.fd >= 0 && Self.send(state.fd, bytes) { return Self.takeDropped(&state) }
                    }
                    state.dropped += 1
                    return nil
                }
                return Self.takeDropped(&state)
            }
            if let recovered, recovered > 0 {
                let note = "switchboard: \(recovered) log lines were dropped while the syslog socket \(socket) did not take them\n"
                Self.writeAll(STDERR_FILENO, Array(note.utf8))
            }
        }
    }

    /// Opens the file again at its path: after logrotate has moved it, the new lines go to a new file. Keeps the
    /// old one when the new cannot be opened.
    func reopen() throws {
        guard case .file(let path) = destination else { return }
        let fd = try Self.openFile(path)
        let old = state.withLock { state -> Int32 in
            defer { state.fd = fd }
            return state.fd
        }
        if old > STDERR_FILENO { close(old) }
    }

    private static func takeDropped(_ state: inout State) -> Int {
        defer { state.dropped = 0 }
        return state.dropped
    }

    private static func openFile(_ path: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw ConfigurationError(path: "dispatcher.logging", reason: "cannot open the log file \(path): \(String(cString: strerror(errno)))")
        }
        return fd
    }

    private static func connect(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ConfigurationError(path: "dispatcher.syslog-socket", reason: "cannot make a socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw ConfigurationError(path: "dispatcher.syslog-socket", reason: "the path \(path) is too long for a UNIX socket")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ConfigurationError(path: "dispatcher.syslog-socket", reason: "no syslog daemon takes messages at \(path): \(reason)")
        }
        return fd
    }

    private static func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Foundation.write(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}
