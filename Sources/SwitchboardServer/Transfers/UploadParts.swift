import Foundation
import NIOCore
import SwitchboardCore

/// A `multipart/form-data` body (RFC 7578, RFC 2046 §5.1) turned into parts as it streams in, one chunk at a
/// time: `.part` (its `Content-Disposition` name and filename), its body in pieces, `.end`.
///
/// Written here rather than taken from multipart-kit, whose push parser the tests use as the reference
/// (`UploadPartsTests` feeds both the same bodies cut at random places): it reads every byte through NIO's
/// generic `ByteBufferView`, about 0.6 MB/s in the debug build the test suite runs (a 1 GiB upload took half an
/// hour), and it keeps no bound on a part's headers. This one finds the delimiter with `memchr` and `memcmp`.
///
/// Bounds: a part's headers may take `maxHeaderBytes`; between chunks at most one delimiter's length of body
/// is held back (it may be the start of the delimiter); the events of one chunk hold at most that chunk's
/// bytes. The body must end with the closing delimiter (`--boundary--`): one that stops short is truncated,
/// and `isComplete` says so. Not `Sendable`: one upload's task owns it.
final class UploadParts {
    enum Event: Equatable {
        /// A part begins: its `Content-Disposition` name and filename.
        case part(name: String?, filename: String?)
        case body([UInt8])
        case end
    }

    static let maxHeaderBytes = 16 << 10

    private enum State {
        /// Before the first delimiter (a preamble is ignored).
        case preamble
        /// Just after a delimiter: `--` closes the body, CRLF opens a part's headers.
        case afterDelimiter
        case headers
        case body
        /// After the closing delimiter: the rest is ignored.
        case epilogue
    }

    /// `CRLF--boundary`; the body is read as if it began with CRLF, so the first delimiter needs no case of its own.
    private let delimiter: [UInt8]
    private var state = State.preamble
    /// Bytes not yet decided: a possible start of the delimiter, the two bytes after one, or a part's headers.
    private var pending: [UInt8] = [13, 10]
    private var events: [Event] = []

    /// Whether the closing delimiter was read: the body may end.
    var isComplete: Bool {
        if case .epilogue = state { return true }
        return false
    }

    /// - Returns: nil unless `contentType` is `multipart/form-data` with a boundary of 1 to 70 characters.
    init?(contentType: String?) {
        guard let contentType, let boundary = Self.boundary(contentType) else { return nil }
        delimiter = Array("\r\n--\(boundary)".utf8)
    }

    /// The events of one more chunk of the body, in order.
    /// - Throws: EINVAL for a malformed body or over-long part headers.
    func feed(_ buffer: ByteBuffer) throws(CallError) -> [Event] {
        events.removeAll(keepingCapacity: true)
        buffer.withUnsafeReadableBytes { pending.append(contentsOf: $0) }
        var start = 0
        loop: while start < pending.count {
            switch state {
            case .epilogue:
                start = pending.count
            case .preamble, .body:
                let inBody = if case .body = state { true } else { false }
                switch find(from: start) {
                case .found(let at):
                    if inBody, at > start { events.append(.body(Array(pending[start..<at]))) }
                    if inBody { events.append(.end) }
                    start = at + delimiter.count
                    state = .afterDelimiter
                case .partial(let at):
                    if inBody, at > start { events.append(.body(Array(pending[start..<at]))) }
                    start = at
                    break loop
                }
            case .afterDelimiter:
                guard pending.count - start >= 2 else { break loop }
                switch (pending[start], pending[start + 1]) {
                case (45, 45): state = .epilogue
                case (13, 10): state = .headers
                default: throw CallError(Errno.EINVAL, "Malformed multipart body: a delimiter must be followed by CRLF or --")
                }
                start += 2
            case .headers:
                guard let end = headerEnd(from: start) else {
                    if pending.count - start > Self.maxHeaderBytes {
                        throw CallError(Errno.EINVAL, "Multipart part headers longer than \(Self.maxHeaderBytes) bytes")
                    }
                    break loop
                }
                guard end - start <= Self.maxHeaderBytes else {
                    throw CallError(Errno.EINVAL, "Multipart part headers longer than \(Self.maxHeaderBytes) bytes")
                }
                events.append(try Self.part(Array(pending[start..<end])))
                // The empty line's CRLF: the headers' own last CRLF is inside `end`'s block.
                start = end + 2
                state = .body
            }
        }
        pending.removeFirst(start)
        return events
    }

    private enum Match { case found(Int), partial(Int) }

    /// The first delimiter at or after `from`, or where a possible start of one begins (the end when none).
    private func find(from: Int) -> Match {
        let length = delimiter.count
        return pending.withUnsafeBytes { raw -> Match in
            guard let base = raw.baseAddress else { return .partial(from) }
            var index = from
            while index < raw.count {
                guard let hit = memchr(base + index, 13, raw.count - index) else { return .partial(raw.count) }
                let at = base.distance(to: UnsafeRawPointer(hit))
                let available = min(length, raw.count - at)
                let matches = delimiter.withUnsafeBytes { wanted in
                    wanted.baseAddress.map { memcmp(base + at, $0, available) == 0 } ?? false
                }
                if matches { return available == length ? .found(at) : .partial(at) }
                index = at + 1
            }
            return .partial(raw.count)
        }
    }

    /// Where the header block starting at `from` ends: the index of the CRLF of its empty line (`from` itself
    /// for a part with no headers).
    private func headerEnd(from: Int) -> Int? {
        var index = from
        while index + 1 < pending.count {
            if pending[index] == 13, pending[index + 1] == 10 {
                if index == from || (index >= from + 2 && pending[index - 2] == 13 && pending[index - 1] == 10) { return index }
                index += 2
            } else {
                index += 1
            }
        }
        return nil
    }

    /// A part's header lines (each ending in CRLF) as its `.part` event.
    static func part(_ block: [UInt8]) throws(CallError) -> Event {
        guard let text = String(validating: block, as: UTF8.self) else {
            throw CallError(Errno.EINVAL, "Malformed multipart body: part headers are not UTF-8")
        }
        var disposition = ""
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else {
                throw CallError(Errno.EINVAL, "Malformed multipart body: a header line without a colon")
            }
            if line[..<colon].trimmingCharacters(in: .whitespaces).lowercased() == "content-disposition" {
                disposition = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        let fields = parameters(disposition)
        return .part(name: fields["name"], filename: fields["filename"])
    }

    /// The boundary of a `multipart/form-data` content type (RFC 2046: 1 to 70 characters, maybe quoted).
    static func boundary(_ contentType: String) -> String? {
        let pieces = contentType.split(separator: ";", omittingEmptySubsequences: false)
        guard let type = pieces.first, type.trimmingCharacters(in: .whitespaces).lowercased() == "multipart/form-data" else { return nil }
        guard let boundary = parameters(contentType)["boundary"], (1...70).contains(boundary.utf8.count) else { return nil }
        return boundary
    }

    /// `key=value` and `key="value"` parameters after the first `;`, keys lowercased; a quoted value may hold `;`.
    static func parameters(_ header: String) -> [String: String] {
        var result: [String: String] = [:]
        var rest = Substring(header)
        guard let first = rest.firstIndex(of: ";") else { return result }
        rest = rest[rest.index(after: first)...]
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "\t" || $0 == ";" }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let key = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            rest = rest[rest.index(after: equals)...].drop { $0 == " " || $0 == "\t" }
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if escaped { value.append(character); escaped = false; continue }
                    if character == "\\" { escaped = true; continue }
                    if character == "\"" { break }
                    value.append(character)
                }
                rest = rest.drop { $0 != ";" }
            } else {
                let end = rest.firstIndex(of: ";") ?? rest.endIndex
                value = rest[..<end].trimmingCharacters(in: .whitespaces)
                rest = rest[end...]
            }
            result[key] = value
        }
        return result
    }
}
