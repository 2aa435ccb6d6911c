import SwitchboardWire

extension FuzzTarget {
    /// `LIMIT(2 bytes) CUT(2 bytes) STREAM`: the frame-header watch gives the same verdict however the stream is
    /// cut; what it passes holds only masked frames whose messages stay within the limit, as a reference
    /// parser of the whole stream finds.
    static func frames(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard bytes.count >= 4 else { return nil }
        let limit = Int(bytes[0]) << 8 | Int(bytes[1])
        let stream = Array(bytes[4...])
        let cut = stream.isEmpty ? 0 : (Int(bytes[2]) << 8 | Int(bytes[3])) % stream.count
        var whole = WebSocketFrameWatch()
        let once = stream.withUnsafeBytes { whole.inspect($0, limit: limit, authenticated: false) }
        var pieces = WebSocketFrameWatch()
        var twice = stream[..<cut].withUnsafeBytes { pieces.inspect($0, limit: limit, authenticated: false) }
        if twice == .pass { twice = stream[cut...].withUnsafeBytes { pieces.inspect($0, limit: limit, authenticated: false) } }
        return checkFrames(stream, limit: limit, cut: cut, whole: once, pieces: twice)
    }

    /// Judges the two verdicts on `stream` against a reference walk of its complete frame headers.
    static func checkFrames(_ stream: [UInt8], limit: Int, cut: Int, whole once: WebSocketFrameWatch.Verdict,
                            pieces twice: WebSocketFrameWatch.Verdict) -> String? {
        if once != twice { return "cutting the stream at \(cut) changed the verdict: \(once) vs \(twice)" }
        var index = 0
        var total: UInt64 = 0
        while index + 2 <= stream.count {
            var length = UInt64(stream[index + 1] & 0x7F)
            var size = 2
            if length == 126 { size = 4 } else if length == 127 { size = 10 }
            let masked = stream[index + 1] & 0x80 != 0
            if masked { size += 4 }
            guard index + size <= stream.count else { break }
            // `else`: a 16-bit length of exactly 127 must not be read again as the 64-bit marker.
            if length == 126 { length = UInt64(stream[index + 2]) << 8 | UInt64(stream[index + 3]) }
            else if length == 127 { length = stream[(index + 2)..<(index + 10)].reduce(0) { $0 << 8 | UInt64($1) } }
            let opcode = stream[index] & 0x0F
            if !masked {
                return once == .refuse(code: 1002, reason: "client frames must be masked") ? nil : "an unmasked frame passed: \(once)"
            }
            if opcode < 0x8 {
                if opcode != 0 { total = 0 }
                total = total.addingReportingOverflow(length).overflow ? .max : total + length
                if total > UInt64(limit) {
                    if case .refuse(1007, _) = once { return nil }
                    return "a message of \(total) bytes over \(limit) passed: \(once)"
                }
                if stream[index] & 0x80 != 0 { total = 0 }
            }
            let (next, overflow) = UInt64(index + size).addingReportingOverflow(length)
            guard !overflow, next <= UInt64(stream.count) else { break }
            index = Int(next)
        }
        return once == .pass ? nil : "refused a stream the reference passes: \(once)"
    }

    /// An HTTP head fed whole and byte by byte ends at the same place with the same upgrade answer.
    static func head(_ bytes: UnsafeRawBufferPointer) -> String? {
        var whole = HTTPHeadWatch(maxSize: 4096)
        let once = whole.inspect(bytes)
        var single = HTTPHeadWatch(maxSize: 4096)
        var outcomes: [HTTPHeadWatch.Outcome] = []
        for index in 0..<bytes.count {
            let outcome = single.inspect(UnsafeRawBufferPointer(rebasing: bytes[index...index]))
            outcomes.append(outcome)
            if outcome != .incomplete { break }
        }
        return checkHead(whole: once, byteByByte: outcomes)
    }

    /// `byteByByte` holds the outcome after each byte fed alone, up to the first that is not `incomplete`.
    static func checkHead(whole once: HTTPHeadWatch.Outcome, byteByByte outcomes: [HTTPHeadWatch.Outcome]) -> String? {
        guard let last = outcomes.last, last != .incomplete else {
            return once == .incomplete ? nil : "whole: \(once), byte by byte: incomplete"
        }
        switch (last, once) {
        case (.complete(let upgrade, _), .complete(let expected, let consumed)):
            return upgrade == expected && consumed == outcomes.count ? nil : "byte by byte ended at \(outcomes.count), whole at \(consumed)"
        case (.tooLarge, .tooLarge): return nil
        default: return "byte by byte: \(last), whole: \(once)"
        }
    }
}
