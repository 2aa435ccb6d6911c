/// Reads the headers of a client's WebSocket frames as the bytes arrive, before any frame is buffered, and
/// refuses what RFC 6455 or the daemon's limits forbid: an unmasked frame (1002), and a message whose declared
/// size (one frame's length, or the running total of its fragments) passes the limit of the moment (1007
/// before authentication, 1009 after, as the message-level check answers).
///
/// The frame decoder behind it would otherwise buffer each frame whole up to `dispatcher.max-message-size`
/// (1 MiB): a stranger declaring 1,000,000 bytes, or sending 1,000 fragments of 1,000, and never finishing,
/// held a megabyte per connection. Here the refusal comes from the header alone. Memory: the 14 bytes of
/// an unfinished header; payload bytes are counted, never kept.
public struct WebSocketFrameWatch: Sendable {
    public enum Verdict: Sendable, Equatable {
        case pass
        case refuse(code: UInt16, reason: String)
    }

    private var header: [UInt8] = []
    /// Payload bytes of the current frame still to come.
    private var remaining: UInt64 = 0
    /// Declared bytes of the message being received so far (its data frames), for fragment totals.
    private var messageBytes: UInt64 = 0

    public init() {}

    /// Inspects the next bytes of the stream. `limit`: the largest message allowed now; `authenticated`
    /// picks the close code and reason.
    public mutating func inspect(_ bytes: UnsafeRawBufferPointer, limit: Int, authenticated: Bool) -> Verdict {
        var index = 0
        while index < bytes.count {
            if remaining > 0 {
                let skip = Int(min(remaining, UInt64(bytes.count - index)))
                remaining -= UInt64(skip)
                index += skip
                continue
            }
            header.append(bytes[index])
            index += 1
            guard let length = headerLength, header.count == length else { continue }
            let verdict = frameHeaderComplete(limit: limit, authenticated: authenticated)
            header.removeAll(keepingCapacity: true)
            if verdict != .pass { return verdict }
        }
        return .pass
    }

    /// The whole header's size once its first two bytes are known.
    private var headerLength: Int? {
        guard header.count >= 2 else { return nil }
        let masked = header[1] & 0x80 != 0
        let base: Int
        switch header[1] & 0x7F {
        case 126: base = 4
        case 127: base = 10
        default: base = 2
        }
        return base + (masked ? 4 : 0)
    }

    private mutating func frameHeaderComplete(limit: Int, authenticated: Bool) -> Verdict {
        guard header[1] & 0x80 != 0 else { return .refuse(code: 1002, reason: "client frames must be masked") }
        var length = UInt64(header[1] & 0x7F)
        if length == 126 {
            length = UInt64(header[2]) << 8 | UInt64(header[3])
        } else if length == 127 {
            length = header[2..<10].reduce(0) { $0 << 8 | UInt64($1) }
        }
        let opcode = header[0] & 0x0F
        let final = header[0] & 0x80 != 0
        remaining = length
        // Control frames (close, ping, pong) are at most 125 bytes; the decoder refuses longer ones.
        guard opcode < 0x8 else { return .pass }
        if opcode != 0 { messageBytes = 0 }
        let (total, overflow) = messageBytes.addingReportingOverflow(length)
        messageBytes = overflow ? .max : total
        if messageBytes > UInt64(limit) {
            let size = messageBytes == .max ? "more than \(UInt64.max)" : "at least \(messageBytes)"
            return authenticated
                ? .refuse(code: 1009, reason: "message of \(size) bytes exceeds \(limit) bytes")
                : .refuse(code: 1007, reason: "message of \(size) bytes exceeds \(limit) bytes before authentication")
        }
        if final { messageBytes = 0 }
        return .pass
    }
}
