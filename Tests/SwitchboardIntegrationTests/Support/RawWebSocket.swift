import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A WebSocket client on a bare POSIX socket, for tests that need a peer which stops reading.
final class RawWebSocket: @unchecked Sendable {
    let fd: Int32
    /// Bytes read by `receiveAvailable` that do not yet make a whole frame.
    private var pending: [UInt8] = []

    /// `receiveBuffer`: a small one (the default) makes the daemon's queue what fills up; nil keeps the system's.
    init(port: Int, path: String = "/api/current", receiveBuffer: Int32? = 4096) throws {
        // Set before connecting so the window is negotiated for it (shrunk afterwards, the connection stalls).
        fd = try RawTCP.connectLoopback(port: port) { fd in
            if var size = receiveBuffer {
                setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            }
        }
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        try write(Array(request.utf8))
        var response: [UInt8] = []
        var byte: UInt8 = 0
        while !(response.count >= 4 && response.suffix(4) == [13, 10, 13, 10]) {
            guard recv(fd, &byte, 1, 0) == 1 else { throw POSIXError(.ECONNRESET) }
            response.append(byte)
        }
        guard String(decoding: response, as: UTF8.self).hasPrefix("HTTP/1.1 101") else { throw POSIXError(.EPROTO) }
    }

    func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw POSIXError(.EPIPE) }
            offset += n
        }
    }

    /// Sends one masked text frame.
    func sendText(_ text: String) throws {
        try sendFrame(opcode: 0x1, Array(text.utf8))
    }

    /// Sends one masked frame with any opcode and payload (invalid UTF-8 in a text frame included), the FIN bit
    /// as `final` says and `reserved` (RSV1-3, in bits 4-6 of the first byte) set as given.
    func sendFrame(opcode: UInt8, _ payload: [UInt8], final: Bool = true, reserved: UInt8 = 0) throws {
        var frame: [UInt8] = [(final ? 0x80 : 0) | (reserved << 4) | opcode]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count < 65_536 {
            frame.append(0x80 | 126)
            frame.append(UInt8(payload.count >> 8))
            frame.append(UInt8(payload.count & 0xFF))
        } else {
            frame.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((payload.count >> shift) & 0xFF)) }
        }
        let mask: [UInt8] = [1, 2, 3, 4]
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        try write(frame)
    }

    /// The whole frames that have arrived, without waiting; `closed` when the peer has closed the connection.
    func receiveAvailable() -> (frames: [(opcode: UInt8, payload: [UInt8])], closed: Bool) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var closed = false
        while true {
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if n > 0 { pending += buffer[0..<n]; continue }
            if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) { closed = true }
            break
        }
        let (frames, offset) = Self.frames(in: pending)
        pending.removeFirst(offset)
        return (frames, closed)
    }

    /// How many whole frames have arrived, looked at without reading them: the socket's receive buffer stays
    /// as full as it was, so the peer's writer is not given room.
    func arrivedFrameCount() -> Int {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT | MSG_PEEK))
        guard n > 0 else { return pending.isEmpty ? 0 : Self.frames(in: pending).frames.count }
        return Self.frames(in: pending + buffer[0..<n]).frames.count
    }

    /// Reads whatever is there until the peer closes; true when it did close within `timeout`.
    func drainUntilClosed(timeout: Duration) -> Bool {
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { return true }
            if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK { return true }
        }
        return false
    }

    /// Reads frames until the peer closes the connection or `timeout` passes; server frames are unmasked.
    /// `closedByPeer` is true for an orderly close (EOF), false for a timeout or a reset.
    /// Reads until the peer closes, `count` whole frames have arrived (when given), or `timeout` passes: with a
    /// count, `timeout` only bounds a hang.
    func readFrames(count: Int? = nil, timeout: Duration) -> (frames: [(opcode: UInt8, payload: [UInt8])], closedByPeer: Bool) {
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var closedByPeer = false
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { closedByPeer = true; break }
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { continue }
                break
            }
            data += buffer[0..<n]
            if let count, Self.frames(in: data).frames.count >= count { break }
        }
        let frames = Self.frames(in: data).frames
        return (frames, closedByPeer)
    }

    /// The whole unmasked frames at the start of `data`, and how many bytes they take.
    static func frames(in data: [UInt8]) -> (frames: [(opcode: UInt8, payload: [UInt8])], consumed: Int) {
        var frames: [(opcode: UInt8, payload: [UInt8])] = []
        var offset = 0
        while data.count - offset >= 2 {
            var length = Int(data[offset + 1] & 0x7F)
            var header = 2
            if length == 126 {
                guard data.count - offset >= 4 else { break }
                length = Int(data[offset + 2]) << 8 | Int(data[offset + 3])
                header = 4
            } else if length == 127 {
                guard data.count - offset >= 10 else { break }
                length = (2..<10).reduce(0) { $0 << 8 | Int(data[offset + $1]) }
                header = 10
            }
            guard data.count - offset >= header + length else { break }
            frames.append((data[offset] & 0x0F, Array(data[(offset + header)..<(offset + header + length)])))
            offset += header + length
        }
        return (frames, offset)
    }

    deinit { close(fd) }
}

/// Resident memory of this process in bytes, from /proc/self/status.
func residentMemory() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }
    return 0
}

/// A flag set once from any task.
final class ManagedAtomicFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
