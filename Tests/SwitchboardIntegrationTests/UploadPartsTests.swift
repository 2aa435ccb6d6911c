import MultipartKit
import NIOCore
import SwitchboardCore
import SwitchboardTestSupport
import Testing
@testable import SwitchboardServer

/// `UploadParts`, the upload's multipart parser, against multipart-kit's as the reference: the same bodies, cut
/// at random places, give the same parts; and the bodies multipart-kit would take without bound are refused.
@Suite struct UploadPartsTests {
    struct Part: Equatable {
        var name: String?
        var body: [UInt8]
    }

    /// The parts `UploadParts` reads from `body` fed in `cuts` pieces, and whether it saw the closing delimiter.
    static func parse(_ body: [UInt8], boundary: String, cuts: [Int]) throws -> (parts: [Part], complete: Bool) {
        let parser = try #require(UploadParts(contentType: "multipart/form-data; boundary=\(boundary)"))
        var parts: [Part] = []
        var start = 0
        for end in cuts + [body.count] where end >= start {
            for event in try parser.feed(ByteBuffer(bytes: body[start..<end])) {
                switch event {
                case .part(let name, _): parts.append(Part(name: name, body: []))
                case .body(let bytes): parts[parts.count - 1].body += bytes
                case .end: break
                }
            }
            start = end
        }
        return (parts, parser.isComplete)
    }

    /// multipart-kit's reading of the same body.
    static func reference(_ body: [UInt8], boundary: String) throws -> [Part] {
        let parser = MultipartParser(boundary: boundary)
        nonisolated(unsafe) var parts: [Part] = []
        nonisolated(unsafe) var name: String?
        nonisolated(unsafe) var current: [UInt8] = []
        parser.onHeader = { field, value in
            if field.lowercased() == "content-disposition" { name = UploadParts.parameters(value)["name"] }
        }
        parser.onBody = { buffer in current += buffer.readableBytesView }
        parser.onPartComplete = {
            parts.append(Part(name: name, body: current))
            current = []
            name = nil
        }
        try parser.execute(body)
        return parts
    }

    static func body(_ parts: [Part], boundary: String, preamble: String = "") -> [UInt8] {
        var bytes = Array(preamble.utf8)
        for part in parts {
            bytes += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(part.name ?? "")\"\r\nContent-Type: x/y\r\n\r\n".utf8)
            bytes += part.body + Array("\r\n".utf8)
        }
        bytes += Array("--\(boundary)--\r\n".utf8)
        return bytes
    }

    @Test func agreesWithMultipartKitOnRandomBodiesAndCuts() throws {
        var random = SplitMix(seed: 22)
        for round in 0..<300 {
            let boundary = "b\(round)-" + String(repeating: "x", count: random.next(20))
            // Bodies full of CR, LF and dashes, and of near-misses of the delimiter, which the parser must pass through.
            let alphabet: [[UInt8]] = [[13], [10], [45], [13, 10], Array("\r\n--".utf8), Array("\r\n--\(boundary.dropLast())Z".utf8), [65], [0]]
            let parts = (0..<(1 + random.next(4))).map { index -> Part in
                var body: [UInt8] = []
                for _ in 0..<random.next(60) { body += alphabet[random.next(alphabet.count)] }
                return Part(name: index == 0 ? "data" : "file", body: body)
            }
            let bytes = Self.body(parts, boundary: boundary, preamble: round % 3 == 0 ? "ignored preamble\r\n" : "")
            let cuts = (0..<random.next(8)).map { _ in random.next(bytes.count + 1) }.sorted()
            let ours = try Self.parse(bytes, boundary: boundary, cuts: cuts)
            #expect(ours.parts == parts, "round \(round) cuts \(cuts)")
            #expect(ours.complete)
            #expect(try Self.reference(bytes, boundary: boundary) == parts, "round \(round): the reference disagrees with the body built")
            // One byte at a time too.
            if round % 25 == 0 { #expect(try Self.parse(bytes, boundary: boundary, cuts: Array(0..<bytes.count)).parts == parts) }
        }
    }

    @Test func aBodyCutShortIsNotComplete() throws {
        let bytes = Self.body([Part(name: "data", body: Array("{}".utf8)), Part(name: "file", body: Array(repeating: 7, count: 100))], boundary: "B")
        for length in [0, 10, 60, bytes.count - 10, bytes.count - 3] {
            #expect(try Self.parse(Array(bytes[..<length]), boundary: "B", cuts: []).complete == false, "\(length)")
        }
        #expect(try Self.parse(bytes, boundary: "B", cuts: []).complete)
    }

    @Test func headersWithoutEndAreRefusedAtTheirBound() throws {
        let parser = try #require(UploadParts(contentType: "multipart/form-data; boundary=B"))
        _ = try parser.feed(ByteBuffer(string: "--B\r\nX-Long: "))
        var refused: CallError?
        for _ in 0..<100 {
            do {
                _ = try parser.feed(ByteBuffer(string: String(repeating: "a", count: 1024)))
            } catch {
                refused = error
                break
            }
        }
        #expect(refused?.reason == "Multipart part headers longer than 16384 bytes")
        let malformed = try #require(UploadParts(contentType: "multipart/form-data; boundary=B"))
        #expect(throws: CallError.self) { try malformed.feed(ByteBuffer(string: "--B\r\nno colon here\r\n\r\nbody")) }
        let badDelimiter = try #require(UploadParts(contentType: "multipart/form-data; boundary=B"))
        #expect(throws: CallError.self) { try badDelimiter.feed(ByteBuffer(string: "--Bxx")) }
    }

    @Test func contentTypesAndDispositions() {
        #expect(UploadParts.boundary("multipart/form-data; boundary=abc") == "abc")
        #expect(UploadParts.boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b;c\"") == "a b;c")
        #expect(UploadParts.boundary("multipart/form-data") == nil)
        #expect(UploadParts.boundary("multipart/form-data; boundary=") == nil)
        #expect(UploadParts.boundary("multipart/form-data; boundary=" + String(repeating: "x", count: 71)) == nil)
        #expect(UploadParts.boundary("application/json; boundary=abc") == nil)
        #expect(UploadParts.parameters("form-data; name=\"file\"; filename=\"a;b \\\"c\\\".bin\"") == ["name": "file", "filename": "a;b \"c\".bin"])
        #expect(UploadParts.parameters("form-data; name=data") == ["name": "data"])
    }
}
