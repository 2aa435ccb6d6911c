import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A bare TCP socket to the daemon, for peers that misbehave before any protocol starts: silent, slow,
/// malformed. Reads block the calling thread, so tests call them through `Binary.onThread`.
final class RawTCP: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = try Self.connectLoopback(port: port)
    }

    /// A TCP socket connected to 127.0.0.1:`port`; `configure` runs before connecting (socket options).
    static func connectLoopback(port: Int, configure: (Int32) -> Void = { _ in }) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        configure(fd)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        return fd
    }

    deinit { close(fd) }

    /// Sends all of `bytes`; false once the peer has gone.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }

    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Everything the peer sends until it closes, or until `timeout`; `closed` says which.
    func readUntilClosed(timeout: Duration) -> (text: String, bytes: [UInt8], closed: Bool) {
        var tv = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { return (String(decoding: data, as: UTF8.self), data, true) }
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { continue }
                return (String(decoding: data, as: UTF8.self), data, true)
            }
            data += buffer[0..<n]
        }
        return (String(decoding: data, as: UTF8.self), data, false)
    }

    /// The first bytes any of `sockets` receives (silent sockets receive nothing until their deadline).
    static func firstAnswer(among sockets: [RawTCP], timeout: Duration) -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            for socket in sockets {
                let n = recv(socket.fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if n > 0 { return String(decoding: buffer[0..<n], as: UTF8.self) }
            }
            usleep(10_000)
        }
        return ""
    }

    /// The WebSocket handshake on this socket; true when the daemon answered 101.
    func upgrade(path: String = "/api/current") -> Bool {
        let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        guard send(request) else { return false }
        var response: [UInt8] = []
        var byte: UInt8 = 0
        while !(response.count >= 4 && response.suffix(4) == [13, 10, 13, 10]) {
            guard recv(fd, &byte, 1, 0) == 1 else { return false }
            response.append(byte)
        }
        return String(decoding: response, as: UTF8.self).hasPrefix("HTTP/1.1 101")
    }

    /// A frame header as a client writes it: `declared` payload bytes follow (or never do).
    static func frameHeader(opcode: UInt8, final: Bool = true, declared: Int, masked: Bool = true) -> [UInt8] {
        var header: [UInt8] = [(final ? 0x80 : 0) | opcode]
        let maskBit: UInt8 = masked ? 0x80 : 0
        if declared < 126 {
            header.append(maskBit | UInt8(declared))
        } else if declared < 65_536 {
            header += [maskBit | 126, UInt8(declared >> 8), UInt8(declared & 0xFF)]
        } else {
            header.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) { header.append(UInt8((declared >> shift) & 0xFF)) }
        }
        if masked { header += [1, 2, 3, 4] }
        return header
    }

    /// The close code and reason of the first close frame in `bytes` (server frames are unmasked).
    static func closeFrame(in bytes: [UInt8]) -> (code: Int, reason: String)? {
        MessageSizeLimitTests.closeFrame(RawWebSocket.frames(in: bytes).frames)
    }
}
