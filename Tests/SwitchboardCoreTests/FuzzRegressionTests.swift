import Foundation
import Testing
import SwitchboardCore
import SwitchboardWire
@testable import SwitchboardFuzzing

/// Every committed seed (Fuzz/Corpus/TARGET) and every input a fuzzer once crashed on
/// (Fuzz/Regressions/TARGET) runs through its target's checks: what was fixed stays fixed.
struct FuzzRegressionTests {
    static let fuzzRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz")

    /// The files of `folder/target`; a target folder may be absent (nothing recorded for it yet), `folder` may not.
    static func inputs(_ folder: String, _ target: FuzzTarget) throws -> [URL] {
        let root = fuzzRoot.appendingPathComponent(folder)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: root.path])
        }
        let directory = root.appendingPathComponent(target.rawValue)
        guard FileManager.default.fileExists(atPath: directory.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted().map { directory.appendingPathComponent($0) }
    }

    @Test(arguments: FuzzTarget.allCases) func corpusAndRegressionsPass(target: FuzzTarget) throws {
        let seeds = try Self.inputs("Corpus", target)
        #expect(seeds.count >= 5, "Fuzz/Corpus/\(target.rawValue) holds \(seeds.count) seeds")
        for file in try seeds + Self.inputs("Regressions", target) {
            let bytes = try [UInt8](Data(contentsOf: file))
            #expect(target.run(bytes) == nil, "\(file.lastPathComponent)")
        }
    }

    @Test func theRegressionsFolderIsThereAndHoldsInputs() throws {
        let all = try FuzzTarget.allCases.flatMap { try Self.inputs("Regressions", $0) }
        #expect(all.count >= 6, "\(all.map(\.lastPathComponent))")
    }

    /// Garbage of every sort is handled without a crash, and seeds are understood, not refused at the door.
    @Test func harnessesSeeTheirInputs() {
        #expect(FuzzTarget.json.run(Array(#"{"a":[1,2]}"#.utf8)) == nil)
        #expect(FuzzTarget.schema.run(Array(#"[{"type":"string"},1]"#.utf8)) == nil)
        #expect(FuzzTarget.query.run(Array(#"[[{"a":1}],[["a","=",1]],{"count":true}]"#.utf8)) == nil)
        for bytes in [[UInt8](), [0xFF, 0xFE], Array(String(repeating: "[", count: 100_000).utf8), Array("{\"a\":1e999999}".utf8)] {
            for target in FuzzTarget.allCases { #expect(target.run(bytes) == nil) }
        }
    }
}

/// The checks catch what they claim to: each is handed a broken answer (an encoder that loses a key, a decoder
/// that mislabels a frame, a watch that lets a frame through) and must fire with its reason. A check that
/// cannot fire would let the fuzzers run for hours and find nothing.
struct FuzzInvariantTests {
    func frame(_ text: String, _ check: (UnsafeRawBufferPointer) -> String?) -> String? {
        Array(text.utf8).withUnsafeBytes { check($0) }
    }

    @Test func pluginLines() {
        let ok: ([UInt8]) -> (PluginMessage, PluginMessage?)? = { _ in (.result(id: 1, true), .result(id: 1, true)) }
        #expect(FuzzTarget.checkPluginLines(whole: ([[1]], false), pieces: ([[1]], false), roundTrip: ok) == nil)
        #expect(FuzzTarget.checkPluginLines(whole: ([[1]], false), pieces: ([[1], [2]], false), roundTrip: ok)?
            .hasPrefix("framing in pieces changed the lines") == true)
        #expect(FuzzTarget.checkPluginLines(whole: ([[1]], true), pieces: ([[1]], false), roundTrip: ok)?
            .hasPrefix("framing in pieces changed the lines") == true)
        #expect(FuzzTarget.checkPluginLines(whole: ([[10]], false), pieces: ([[10]], false), roundTrip: ok) == "a line holds a newline")
        let lossy: ([UInt8]) -> (PluginMessage, PluginMessage?)? = { _ in (.result(id: 1, true), .result(id: 2, true)) }
        #expect(FuzzTarget.checkPluginLines(whole: ([[1]], false), pieces: ([[1]], false), roundTrip: lossy)?
            .hasPrefix("an encoded message does not decode to itself") == true)
    }

    @Test func jsonRoundTrip() {
        let value: JSON = ["a": [1, 2], "b": "x"]
        #expect(FuzzTarget.checkRoundTrip(value) { $0.encodedBytes() } == nil)
        #expect(FuzzTarget.checkRoundTrip(value) { _ in Array("{".utf8) }?.hasPrefix("encoded JSON does not parse") == true)
        #expect(FuzzTarget.checkRoundTrip(value) { _ in Array(#"{"a":[1,2]}"#.utf8) }?.hasPrefix("round trip changed the value") == true)
        let calls = Counter()
        let unstable = FuzzTarget.checkRoundTrip(value) { value in calls.next() == 0 ? value.encodedBytes() : Array(" ".utf8) + value.encodedBytes() }
        #expect(unstable == "encoding is not stable")
    }

    @Test func schemaValidation() {
        let issue = ValidationIssue(attribute: "value.name", message: "Field required")
        #expect(FuzzTarget.checkValidation(issues: [issue], isValid: false) == nil)
        #expect(FuzzTarget.checkValidation(issues: [issue], isValid: true) == "isValid and validate disagree")
        #expect(FuzzTarget.checkValidation(issues: [], isValid: false) == "isValid and validate disagree")
        #expect(FuzzTarget.checkValidation(issues: [ValidationIssue(attribute: "other", message: "x")], isValid: false)
                == "issue path other does not start at the argument")
        #expect(FuzzTarget.checkValidation(issues: [ValidationIssue(attribute: "value", message: "")], isValid: false)
                == "issue at value without a message")
    }

    @Test func queryResults() throws {
        let rows: [JSON] = [["a": 1], ["a": 2], ["a": 3]]
        var limited = QueryOptions()
        limited.limit = 2
        #expect(FuzzTarget.checkQueryResult([["a": 1], ["a": 2]], rows: rows, options: limited) == nil)
        #expect(FuzzTarget.checkQueryResult(.array(rows), rows: rows, options: limited) == "limit not kept")
        #expect(FuzzTarget.checkQueryResult(.array(rows + rows), rows: rows, options: QueryOptions()) == "more rows out than in")
        #expect(FuzzTarget.checkQueryResult([["a": 9]], rows: rows, options: QueryOptions())?.hasPrefix("a row out that was not given") == true)
        #expect(FuzzTarget.checkQueryResult(["a": 1], rows: rows, options: QueryOptions()) == "a query answered object, not a list")
        var count = QueryOptions()
        count.count = true
        #expect(FuzzTarget.checkQueryResult(4, rows: rows, options: count) == "count 4 out of range")
        var get = QueryOptions()
        get.get = true
        #expect(FuzzTarget.checkQueryResult(["a": 7], rows: rows, options: get) == "get answered a row that was not given")
    }

    @Test func regexRuns() throws {
        let fine = FuzzTarget.RegexRun(found: true, grouped: true, compilesIgnoringCase: true, budgeted: .success(true), used: 10, limit: 1_000)
        #expect(FuzzTarget.checkRegex(fine) == nil)
        var run = fine
        run.grouped = nil
        #expect(FuzzTarget.checkRegex(run) == "the pattern compiles, but not in a group")
        run = fine
        run.grouped = false
        #expect(FuzzTarget.checkRegex(run) == "grouping the pattern changed the answer")
        run = fine
        run.compilesIgnoringCase = false
        #expect(FuzzTarget.checkRegex(run) == "the pattern compiles, but not ignoring case")
        run = fine
        run.budgeted = .success(false)
        #expect(FuzzTarget.checkRegex(run) == "a budget changed the answer")
        run = fine
        run.used = 1_001
        #expect(FuzzTarget.checkRegex(run) == "the budget was overspent without a refusal")
        run = fine
        run.budgeted = .failure(CallError(Errno.E2BIG, "over"))
        #expect(FuzzTarget.checkRegex(run)?.hasPrefix("a wrong refusal") == true, "E2BIG while still within the budget")
        run.used = 1_001
        #expect(FuzzTarget.checkRegex(run) == nil)
        run.budgeted = .failure(CancellationError())
        #expect(FuzzTarget.checkRegex(run)?.hasPrefix("unexpected") == true)
        #expect(FuzzTarget.checkRefusal(reason: "") == "a refusal without a reason")
    }

    @Test func frameWatch() {
        let masked: [UInt8] = [0x81, 0x82, 1, 2, 3, 4, 0x61 ^ 1, 0x62 ^ 2]
        let unmasked: [UInt8] = [0x81, 0x02, 0x61, 0x62]
        let pass = WebSocketFrameWatch.Verdict.pass
        let unmaskedRefusal = WebSocketFrameWatch.Verdict.refuse(code: 1002, reason: "client frames must be masked")
        #expect(FuzzTarget.checkFrames(masked, limit: 100, cut: 3, whole: pass, pieces: pass) == nil)
        #expect(FuzzTarget.checkFrames(masked, limit: 100, cut: 3, whole: pass, pieces: unmaskedRefusal)?.hasPrefix("cutting the stream at 3") == true)
        #expect(FuzzTarget.checkFrames(unmasked, limit: 100, cut: 1, whole: pass, pieces: pass)?.hasPrefix("an unmasked frame passed") == true)
        #expect(FuzzTarget.checkFrames(unmasked, limit: 100, cut: 1, whole: unmaskedRefusal, pieces: unmaskedRefusal) == nil)
        #expect(FuzzTarget.checkFrames(masked, limit: 1, cut: 1, whole: pass, pieces: pass)?.hasPrefix("a message of 2 bytes over 1 passed") == true)
        #expect(FuzzTarget.checkFrames(masked, limit: 100, cut: 1, whole: unmaskedRefusal, pieces: unmaskedRefusal)?
            .hasPrefix("refused a stream the reference passes") == true)
    }

    @Test func headWatch() {
        let done = HTTPHeadWatch.Outcome.complete(upgrade: true, consumed: 3)
        let steps: [HTTPHeadWatch.Outcome] = [.incomplete, .incomplete, .complete(upgrade: true, consumed: 1)]
        #expect(FuzzTarget.checkHead(whole: done, byteByByte: steps) == nil)
        #expect(FuzzTarget.checkHead(whole: .complete(upgrade: true, consumed: 2), byteByByte: steps) == "byte by byte ended at 3, whole at 2")
        #expect(FuzzTarget.checkHead(whole: .complete(upgrade: false, consumed: 3), byteByByte: steps) == "byte by byte ended at 3, whole at 3")
        #expect(FuzzTarget.checkHead(whole: done, byteByByte: [.incomplete, .incomplete]) == "whole: \(done), byte by byte: incomplete")
        #expect(FuzzTarget.checkHead(whole: .tooLarge, byteByByte: steps)?.hasPrefix("byte by byte:") == true)
    }

    @Test func jsonRPCDecoding() {
        let call = #"{"jsonrpc":"2.0","id":7,"method":"core.ping","params":[1]}"#
        #expect(frame(call) { FuzzTarget.checkJSONRPC($0, .call(id: 7, method: "core.ping", params: [1])) } == nil)
        #expect(frame(call) { FuzzTarget.checkJSONRPC($0, .call(id: "7", method: "core.ping", params: [1])) }?.hasPrefix("id") == true)
        #expect(frame(call) { FuzzTarget.checkJSONRPC($0, .call(id: 7, method: "core.pong", params: [1])) } == "method core.pong is not the frame's")
        #expect(frame(call) { FuzzTarget.checkJSONRPC($0, .call(id: 7, method: "core.ping", params: [])) } == "params are not the frame's")
        #expect(frame(call) { FuzzTarget.checkJSONRPC($0, .notification(method: "core.ping", params: [1])) }?.hasPrefix("id nil") == true)
        #expect(frame(call) { FuzzTarget.checkJSONRPC($0, .invalid(id: 7, code: -32600, message: "Invalid Request", reason: "no")) }?
            .hasPrefix("refused a valid request") == true)
        let bad = #"{"jsonrpc":"1.0","id":"x","method":"m"}"#
        #expect(frame(bad) { FuzzTarget.checkJSONRPC($0, .invalid(id: "x", code: -32600, message: "Invalid Request", reason: "no")) } == nil)
        #expect(frame(bad) { FuzzTarget.checkJSONRPC($0, .invalid(id: .null, code: -32600, message: "Invalid Request", reason: "no")) }?
            .hasPrefix("the refusal's id") == true)
        #expect(frame(bad) { FuzzTarget.checkJSONRPC($0, .invalid(id: "x", code: -32600, message: "Parse error", reason: "no")) }
                == "code -32600 with message Parse error")
        #expect(frame(bad) { FuzzTarget.checkJSONRPC($0, .invalid(id: "x", code: -32700, message: "Parse error", reason: "no")) }
                == "a parse error for a JSON object")
        #expect(frame(bad) { FuzzTarget.checkJSONRPC($0, .invalid(id: "x", code: -32600, message: "Invalid Request", reason: "")) }
                == "a refusal without a reason")
        #expect(frame("{") { FuzzTarget.checkJSONRPC($0, .invalid(id: .null, code: -32600, message: "Invalid Request", reason: "x")) }
                == "not JSON or a batch, but code -32600")
        #expect(frame("5") { FuzzTarget.checkJSONRPC($0, .invalid(id: .null, code: -32700, message: "Parse error", reason: "x")) }
                == "a frame that is not an object, but code -32700")
    }

    @Test func ddpDecoding() {
        let method = #"{"msg":"method","id":"a","method":"core.ping","params":null}"#
        #expect(frame(method) { FuzzTarget.checkDDP($0, .method(id: "a", method: "core.ping", params: [])) } == nil)
        #expect(frame(method) { FuzzTarget.checkDDP($0, .method(id: "b", method: "core.ping", params: [])) }?.hasPrefix("id") == true)
        #expect(frame(method) { FuzzTarget.checkDDP($0, .method(id: "a", method: "core.ping", params: [1])) } == "params are not the frame's")
        #expect(frame(method) { FuzzTarget.checkDDP($0, .sub(id: "a", name: "core.ping", params: [])) }?.hasPrefix("a sub from a frame whose msg is") == true)
        #expect(frame(method) { FuzzTarget.checkDDP($0, .invalid(id: "b", reason: "no")) }?.hasPrefix("the refusal's id") == true)
        #expect(frame(method) { FuzzTarget.checkDDP($0, .invalid(id: "a", reason: "")) } == "a refusal without a reason")
        let ping = #"{"msg":"ping","id":"p"}"#
        #expect(frame(ping) { FuzzTarget.checkDDP($0, .ping(id: "p")) } == nil)
        #expect(frame(ping) { FuzzTarget.checkDDP($0, .pong(id: "p")) }?.hasPrefix("a pong from a frame whose msg is") == true)
        #expect(frame(ping) { FuzzTarget.checkDDP($0, .invalid(id: "p", reason: "no")) } == "refused a ping, which is always taken: no")
        let connect = #"{"msg":"connect","version":"1","support":["1"]}"#
        #expect(frame(connect) { FuzzTarget.checkDDP($0, .connect(version: "1", support: ["1"])) } == nil)
        #expect(frame(connect) { FuzzTarget.checkDDP($0, .connect(version: "2", support: ["1"])) } == "version 2 is not the frame's")
        #expect(frame(connect) { FuzzTarget.checkDDP($0, .connect(version: "1", support: [])) } == "support is not the frame's")
    }

    @Test func envelopeDecoding() {
        let request = #"{"namespace":"rpc","name":"call","id":3,"args":{"method":"m"}}"#
        #expect(frame(request) { FuzzTarget.checkEnvelope($0, .request(id: 3, namespace: "rpc", name: "call", args: ["method": "m"])) } == nil)
        #expect(frame(request) { FuzzTarget.checkEnvelope($0, .request(id: .null, namespace: "rpc", name: "call", args: ["method": "m"])) }?
            .hasPrefix("id") == true)
        #expect(frame(request) { FuzzTarget.checkEnvelope($0, .request(id: 3, namespace: "events", name: "call", args: ["method": "m"])) }
                == "namespace events is not the frame's")
        #expect(frame(request) { FuzzTarget.checkEnvelope($0, .request(id: 3, namespace: "rpc", name: "x", args: ["method": "m"])) }
                == "name x is not the frame's")
        #expect(frame(request) { FuzzTarget.checkEnvelope($0, .request(id: 3, namespace: "rpc", name: "call", args: .null)) }
                == "args are not the frame's")
        #expect(frame(request) { FuzzTarget.checkEnvelope($0, .invalid(id: 3, reason: "no")) } == "refused a valid message: no")
        let nameless = #"{"namespace":"rpc","id":3}"#
        #expect(frame(nameless) { FuzzTarget.checkEnvelope($0, .invalid(id: 3, reason: "no")) } == nil)
        #expect(frame(nameless) { FuzzTarget.checkEnvelope($0, .invalid(id: .null, reason: "no")) }?.hasPrefix("the refusal's id") == true)
        #expect(frame(nameless) { FuzzTarget.checkEnvelope($0, .request(id: 3, namespace: "rpc", name: "call", args: .null)) }
                == "name call is not the frame's")
    }
}

/// Counts calls, for an encoder that answers differently the second time.
final class Counter: @unchecked Sendable {
    private var value = 0
    func next() -> Int {
        defer { value += 1 }
        return value
    }
}
