import SwitchboardCore
import SwitchboardWire

extension FuzzTarget {
    /// What an external plugin sends on fd 3: the first two bytes pick a line limit and a cut. Framed whole and
    /// framed in two pieces, the stream gives the same lines (or fails at the same limit); every line decodes or
    /// is refused with a reason, and what decodes encodes to a line that decodes to the same message.
    static func pluginProtocol(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard bytes.count >= 2 else { return nil }
        let limit = 16 + Int(bytes[0]) * 32
        let stream = Array(bytes[2...])
        let cut = stream.isEmpty ? 0 : Int(bytes[1]) % stream.count
        let whole = frameLines(stream, limit: limit, cuts: [])
        let pieces = frameLines(stream, limit: limit, cuts: [cut])
        return checkPluginLines(whole: whole, pieces: pieces) { line in
            guard let message = try? PluginMessage.decode(line) else { return nil }
            return (message, (try? PluginMessage.decode(Array(message.encoded().dropLast()))))
        }
    }

    /// The lines, and whether the framer failed, feeding `stream` split at `cuts`.
    static func frameLines(_ stream: [UInt8], limit: Int, cuts: [Int]) -> (lines: [[UInt8]], failed: Bool) {
        var framer = LineFramer(maxLine: limit)
        var lines: [[UInt8]] = []
        var start = 0
        do {
            for end in cuts + [stream.count] where end >= start {
                try stream[start..<end].withUnsafeBytes { try framer.feed($0) { lines.append(Array($0)) } }
                start = end
            }
        } catch {
            return (lines, true)
        }
        if let last = framer.finish() { lines.append(last) }
        return (lines, false)
    }

    /// `roundTrip` gives, for a line that decodes, the message and what its encoding decodes to.
    static func checkPluginLines(whole: (lines: [[UInt8]], failed: Bool), pieces: (lines: [[UInt8]], failed: Bool),
                                 roundTrip: ([UInt8]) -> (PluginMessage, PluginMessage?)?) -> String? {
        if whole.failed != pieces.failed || whole.lines != pieces.lines {
            return "framing in pieces changed the lines: \(whole.lines.count) vs \(pieces.lines.count), failed \(whole.failed) vs \(pieces.failed)"
        }
        for line in whole.lines {
            if line.contains(UInt8(ascii: "\n")) { return "a line holds a newline" }
            guard let (message, again) = roundTrip(line) else { continue }
            if again != message { return "an encoded message does not decode to itself: \(message)" }
        }
        return nil
    }
}
