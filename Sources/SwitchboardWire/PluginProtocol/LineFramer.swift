/// Splits a byte stream into lines (`\n`, an optional `\r` before it dropped), never holding more than
/// `maxLine` bytes of an unfinished line: the plugin protocol's framing, and that of a plugin's stdout and
/// stderr. A line over the limit is an error for the protocol; for a log stream it is cut (`truncating`).
public struct LineFramer: Sendable {
    public enum Failure: Error, Equatable, Sendable {
        case lineTooLong(limit: Int)
    }

    public let maxLine: Int
    /// Cut an over-long line at the limit (and drop the rest of it) instead of failing.
    public let truncating: Bool
    private var partial: [UInt8] = []
    /// Dropping the rest of a line that was cut.
    private var skipping = false

    public init(maxLine: Int, truncating: Bool = false) {
        self.maxLine = max(1, maxLine)
        self.truncating = truncating
    }

    /// Feeds bytes; calls `line` for each complete line, in order. The line's bytes are valid only during the
    /// call: a line that arrived whole in `bytes` is passed in place, without a copy.
    /// - Throws: `Failure.lineTooLong` (not `truncating`): the stream cannot be trusted any further.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, line: (UnsafeRawBufferPointer) throws -> Void) throws {
        var start = 0
        while start < bytes.count {
            guard let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) else {
                try append(UnsafeRawBufferPointer(rebasing: bytes[start...]), emitCut: line)
                return
            }
            if partial.isEmpty && !skipping && newline - start <= maxLine {
                var end = newline
                if end > start && bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                try line(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                start = newline + 1
                continue
            }
            try append(UnsafeRawBufferPointer(rebasing: bytes[start..<newline]), emitCut: line)
            if skipping {
                skipping = false
            } else {
                if partial.last == UInt8(ascii: "\r") { partial.removeLast() }
                try partial.withUnsafeBytes { try line($0) }
                partial.removeAll(keepingCapacity: partial.count <= 4096)
            }
            start = newline + 1
        }
    }

    /// What is left unterminated at the end of the stream (a last line without its newline).
    public mutating func finish() -> [UInt8]? {
        defer { partial = []; skipping = false }
        return partial.isEmpty || skipping ? nil : partial
    }

    private mutating func append(_ bytes: UnsafeRawBufferPointer, emitCut: (UnsafeRawBufferPointer) throws -> Void) throws {
        if skipping || bytes.isEmpty { return }
        if partial.count + bytes.count <= maxLine {
            partial.append(contentsOf: bytes)
            return
        }
        guard truncating else { throw Failure.lineTooLong(limit: maxLine) }
        partial.append(contentsOf: bytes.prefix(maxLine - partial.count))
        skipping = true
        defer { partial.removeAll() }
        try partial.withUnsafeBytes { try emitCut($0) }
    }
}
