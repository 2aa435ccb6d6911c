import Testing
import SwitchboardWire

/// The byte-level checks of the connection guard: where a request head ends, and what a frame header declares.
@Suite struct ConnectionWatchTests {
    static func frame(opcode: UInt8, final: Bool = true, length: Int, masked: Bool = true, payload: Bool = true) -> [UInt8] {
        var bytes: [UInt8] = [(final ? 0x80 : 0) | opcode]
        let mask: UInt8 = masked ? 0x80 : 0
        if length < 126 {
            bytes.append(mask | UInt8(length))
        } else if length < 65_536 {
            bytes += [mask | 126, UInt8(length >> 8), UInt8(length & 0xFF)]
        } else {
            bytes.append(mask | 127)
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8((length >> shift) & 0xFF)) }
        }
        if masked { bytes += [9, 8, 7, 6] }
        if payload { bytes += [UInt8](repeating: 0x61, count: length) }
        return bytes
    }

    /// The verdict of a stream fed in pieces of `chunk` bytes.
    static func verdict(_ bytes: [UInt8], chunk: Int, limit: Int = 8192, authenticated: Bool = false) -> WebSocketFrameWatch.Verdict {
        var watch = WebSocketFrameWatch()
        var index = 0
        while index < bytes.count {
            let end = min(index + chunk, bytes.count)
            let verdict = bytes[index..<end].withUnsafeBytes { watch.inspect($0, limit: limit, authenticated: authenticated) }
            if verdict != .pass { return verdict }
            index = end
        }
        return .pass
    }

    @Test func validStreamsPassWhateverTheyAreCutInto() {
        let stream = Self.frame(opcode: 0x1, length: 5) + Self.frame(opcode: 0x2, length: 300) + Self.frame(opcode: 0x9, length: 4)
            + Self.frame(opcode: 0x1, final: false, length: 4_000) + Self.frame(opcode: 0xA, length: 0) + Self.frame(opcode: 0x0, length: 4_000)
            + Self.frame(opcode: 0x2, length: 8_192)
        for chunk in [1, 2, 3, 7, 14, 100, 4096, stream.count] {
            #expect(Self.verdict(stream, chunk: chunk) == .pass, "chunk \(chunk)")
        }
    }

    @Test func refusalsComeFromTheHeaderAlone() {
        // Declared, with no payload sent: refused at once, before and after login.
        let big = Self.frame(opcode: 0x1, length: 1_000_000, payload: false)
        #expect(Self.verdict(big, chunk: 1) == .refuse(code: 1007, reason: "message of at least 1000000 bytes exceeds 8192 bytes before authentication"))
        #expect(Self.verdict(big, chunk: 1, limit: 65_536, authenticated: true)
                == .refuse(code: 1009, reason: "message of at least 1000000 bytes exceeds 65536 bytes"))
        #expect(Self.verdict(Self.frame(opcode: 0x1, length: 8_193, payload: false), chunk: 3)
                == .refuse(code: 1007, reason: "message of at least 8193 bytes exceeds 8192 bytes before authentication"))
        // The running total of fragments; control frames between them do not count.
        var fragments = Self.frame(opcode: 0x1, final: false, length: 1_000)
        for _ in 0..<7 { fragments += Self.frame(opcode: 0x0, final: false, length: 1_000) + Self.frame(opcode: 0x9, length: 100) }
        #expect(Self.verdict(fragments, chunk: 512) == .pass)
        fragments += Self.frame(opcode: 0x0, final: true, length: 1_000, payload: false)
        #expect(Self.verdict(fragments, chunk: 512) == .refuse(code: 1007, reason: "message of at least 9000 bytes exceeds 8192 bytes before authentication"))
        // A new message starts a new total.
        let two = Self.frame(opcode: 0x1, final: false, length: 5_000) + Self.frame(opcode: 0x0, length: 3_000) + Self.frame(opcode: 0x1, length: 8_000)
        #expect(Self.verdict(two, chunk: 999) == .pass)
        // Unmasked.
        #expect(Self.verdict(Self.frame(opcode: 0x1, length: 3, masked: false), chunk: 1) == .refuse(code: 1002, reason: "client frames must be masked"))
        // A 64-bit length at its maximum does not overflow the total.
        let huge: [UInt8] = [0x81, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4]
        #expect(Self.verdict(huge, chunk: 1) == .refuse(code: 1007, reason: "message of at least 9223372036854775807 bytes exceeds 8192 bytes before authentication"))
        let continued = Self.frame(opcode: 0x1, final: false, length: 10, payload: true) + [0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4]
        if case .refuse(let code, _) = Self.verdict(continued, chunk: 5) { #expect(code == 1007) } else { Issue.record("passed") }
    }

    @Test func aRequestHeadEndsAtItsBlankLineAndSaysWhetherItUpgrades() {
        let upgrade = Array("GET /api/current HTTP/1.1\r\nHost: x\r\nUPGRADE:  WebSocket \r\nConnection: Upgrade\r\n\r\n".utf8) + [0x81, 0x80]
        for chunk in [1, 5, upgrade.count] {
            var watch = HTTPHeadWatch()
            var outcome = HTTPHeadWatch.Outcome.incomplete
            var offset = 0
            while offset < upgrade.count, outcome == .incomplete {
                let end = min(offset + chunk, upgrade.count)
                outcome = upgrade[offset..<end].withUnsafeBytes { watch.inspect($0) }
                if case .complete(let isUpgrade, let consumed) = outcome {
                    #expect(isUpgrade)
                    #expect(offset + consumed == upgrade.count - 2, "chunk \(chunk)")
                }
                offset = end
            }
            if case .complete = outcome {} else { Issue.record("no end found with chunks of \(chunk)") }
        }
        var plain = HTTPHeadWatch()
        let head = Array("GET /health HTTP/1.1\r\nHost: x\r\nX-Upgrade-Note: websocket\r\n\r\n".utf8)
        #expect((head + Array("GET".utf8)).withUnsafeBytes { plain.inspect($0) } == .complete(upgrade: false, consumed: head.count))
        var slow = HTTPHeadWatch(maxSize: 64)
        #expect(Array("GET / HTTP/1.1\r\n".utf8).withUnsafeBytes { slow.inspect($0) } == .incomplete)
        #expect([UInt8](repeating: 0x41, count: 100).withUnsafeBytes { slow.inspect($0) } == .tooLarge)
    }
}
