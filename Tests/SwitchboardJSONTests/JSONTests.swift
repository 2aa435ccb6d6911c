import Testing
@testable import SwitchboardJSON

@Suite struct JSONTests {
    @Test(arguments: [
        (#"{"a":1,"b":[true,false,null],"c":"x\"y","d":-0.5,"e":{}}"#, #"{"a":1,"b":[true,false,null],"c":"x\"y","d":-0.5,"e":{}}"#),
        ("  [ 1 , 2 ]  ", "[1,2]"),
        (#""\u00e9\ud83d\ude00\n\t\/""#, "\"é😀\\n\\t/\""),
        ("9223372036854775807", "9223372036854775807"),
        ("-9223372036854775808", "-9223372036854775808"),
        ("12345678901234567890", "1.2345678901234567e+19"),
        ("1e2", "100.0"),
        ("0", "0"),
        (#""\u0001""#, #""\u0001""#),
    ])
    func roundTrip(input: String, output: String) throws {
        #expect(try JSON.parse(input).encodedString() == output)
    }

    @Test func integersStayIntegers() throws {
        #expect(try JSON.parse("7") == .int(7))
        if case .int = try JSON.parse("7") {} else { Issue.record("7 parsed as a double") }
        if case .double = try JSON.parse("7.0") {} else { Issue.record("7.0 parsed as an integer") }
        #expect(try JSON.parse(#"{"b":2,"a":1}"#).encodedString() == #"{"b":2,"a":1}"#)
    }

    @Test(arguments: [
        "", " ", "{", "[1,", "[1,]", "{\"a\"}", "{\"a\":}", "{a:1}", "01", "-", "1.", "1e", ".5", "+1", "tru", "nul",
        "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"a\u{1}b\"", "[1] 2", "NaN", "Infinity", "1e400",
    ])
    func rejects(input: String) {
        #expect(throws: JSONParseError.self) { try JSON.parse(input) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSON.parse(bytes: [0x22, 0xFF, 0xFE, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSON.parse(bytes: [0x22, 0xC3, 0x22]) }
    }

    @Test func depthIsBounded() throws {
        let deep = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: JSONParseError.self) { try JSON.parse(deep) }
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try JSON.parse(ok) }
        let huge = String(repeating: "[", count: 1_000_000)
        #expect(throws: JSONParseError.self) { try JSON.parse(huge) }
    }

    @Test func memberLimit() {
        #expect(throws: JSONParseError.self) { try JSON.parse("[1,2,3,4]", limits: JSONParseLimits(maxDepth: 8, maxMembers: 3)) }
    }

    @Test func equalityIsNumericAndOrderFree() throws {
        #expect(JSON.int(1) == JSON.double(1.0))
        #expect(JSON.int(1) != JSON.double(1.5))
        #expect(try JSON.parse(#"{"a":1,"b":2}"#) == JSON.parse(#"{"b":2,"a":1}"#))
        #expect(Set<JSON>([1, 1.0, "1"]).count == 2)
    }

    @Test func prettyPrinting() throws {
        #expect(try JSON.parse(#"{"a":[1]}"#).encodedString(pretty: true) == "{\n  \"a\": [\n    1\n  ]\n}")
    }
}
