/// Follows the bytes of a connection's first HTTP request head without parsing it for use: it finds where the
/// head ends (the blank line), whether it asks for a WebSocket upgrade, and refuses a head that grows past
/// `maxSize` before it ends.
///
/// The daemon's HTTP parser does the real work; this only tells the connection guard when a peer has
/// finished introducing itself (so its deadline can be lifted) and whether the bytes that follow are
/// WebSocket frames. Memory: at most `maxSize` bytes of head text, kept only to find the upgrade header.
public struct HTTPHeadWatch: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// More bytes are needed.
        case incomplete
        /// The head ended `consumed` bytes into this chunk; the rest belongs to what follows.
        case complete(upgrade: Bool, consumed: Int)
        /// The head passed `maxSize` without ending.
        case tooLarge
    }

    public let maxSize: Int
    private var head: [UInt8] = []

    public init(maxSize: Int = 32 << 10) {
        self.maxSize = maxSize
    }

    public mutating func inspect(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        for (index, byte) in bytes.enumerated() {
            head.append(byte)
            if byte == 0x0A, head.count >= 4, head[head.count - 2] == 0x0D, head[head.count - 3] == 0x0A, head[head.count - 4] == 0x0D {
                let upgrade = Self.asksForWebSocket(head)
                head = []
                return .complete(upgrade: upgrade, consumed: index + 1)
            }
            if head.count > maxSize { return .tooLarge }
        }
        return .incomplete
    }

    /// Whether a header line `Upgrade:` names `websocket` (case ignored, as HTTP field names and this token are).
    static func asksForWebSocket(_ head: [UInt8]) -> Bool {
        let text = String(decoding: head, as: UTF8.self).lowercased()
        for line in text.split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            if line[..<colon].trimmingCharacters(in: " \t") == "upgrade", line[line.index(after: colon)...].contains("websocket") {
                return true
            }
        }
        return false
    }
}

private extension Substring {
    func trimmingCharacters(in set: String) -> Substring {
        var result = self
        while let first = result.first, set.contains(first) { result = result.dropFirst() }
        while let last = result.last, set.contains(last) { result = result.dropLast() }
        return result
    }
}
