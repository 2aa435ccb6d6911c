import SwitchboardCore
import SwitchboardWire
import Testing

/// The external plugin protocol's framing and messages (docs/plugin-protocol.md).
@Suite struct PluginProtocolTests {
    func lines(_ chunks: [String], maxLine: Int = 64, truncating: Bool = false) throws -> [String] {
        var framer = LineFramer(maxLine: maxLine, truncating: truncating)
        var result: [String] = []
        for chunk in chunks {
            try Array(chunk.utf8).withUnsafeBytes { bytes in
                try framer.feed(bytes) { result.append(String(decoding: $0, as: UTF8.self)) }
            }
        }
        if let last = framer.finish() { result.append(String(decoding: last, as: UTF8.self)) }
        return result
    }

    @Test func linesSplitAnywhereComeOutWhole() throws {
        #expect(try lines(["{\"a\":", "1}\n{\"b\"", ":2}\r\n", "\n", "tail"]) == ["{\"a\":1}", "{\"b\":2}", "", "tail"])
        #expect(try lines(["one\ntwo\nthree\n"]) == ["one", "two", "three"])
    }

    @Test func aLineOverTheLimitFailsTheStreamOrIsCut() throws {
        #expect(throws: LineFramer.Failure.lineTooLong(limit: 8)) { try lines(["12345", "6789\n"], maxLine: 8) }
        // Exactly the limit passes.
        #expect(try lines(["12345678\n"], maxLine: 8) == ["12345678"])
        // A log stream cuts the line and drops its rest, then goes on.
        #expect(try lines(["12345", "6789abc", "def\nnext\n"], maxLine: 8, truncating: true) == ["12345678", "next"])
    }

    @Test func messagesDecodeByTheirShape() throws {
        #expect(try PluginMessage.decode(Array(#"{"jsonrpc":"2.0","id":1,"method":"plugin.hello","params":{"protocol":1}}"#.utf8))
                == .request(id: 1, method: "plugin.hello", params: ["protocol": 1]))
        #expect(try PluginMessage.decode(Array(#"{"jsonrpc":"2.0","method":"event.emit","params":{"name":"x"}}"#.utf8))
                == .notification(method: "event.emit", params: ["name": "x"]))
        #expect(try PluginMessage.decode(Array(#"{"jsonrpc":"2.0","id":"a","result":null}"#.utf8)) == .result(id: "a", .null))
        let error = try PluginMessage.decode(Array(
            #"{"jsonrpc":"2.0","id":3,"error":{"code":2,"message":"gone","data":{"errno":2,"extra":{"k":1},"exc_info":{"type":"KeyError","traceback":"T"}}}}"#.utf8))
        guard case .error(let id, let callError) = error else {
            Issue.record("not an error: \(error)")
            return
        }
        #expect(id == 3 && callError.errno == Errno.ENOENT && callError.reason == "gone" && callError.extra == ["k": 1])
        #expect(callError.trace["class"] == "KeyError" && callError.trace["formatted"] == "T")
        // An error without an errno reads as EFAULT.
        if case .error(_, let bare) = try PluginMessage.decode(Array(#"{"jsonrpc":"2.0","id":4,"error":{"code":-1,"message":"m"}}"#.utf8)) {
            #expect(bare.errno == Errno.EFAULT)
        }
    }

    @Test(arguments: [
        ("not json", "invalid JSON"),
        ("[1,2]", "a message is a JSON object"),
        (#"{"id":1,"method":"x"}"#, "\"jsonrpc\" must be \"2.0\""),
        (#"{"jsonrpc":"2.0","id":[1],"method":"x"}"#, "\"id\" must be a string or an integer"),
        (#"{"jsonrpc":"2.0","id":1,"method":""}"#, "\"method\" must be a non-empty string"),
        (#"{"jsonrpc":"2.0","id":1,"method":"x","params":3}"#, "\"params\" must be an object or an array"),
        (#"{"jsonrpc":"2.0","result":1}"#, "a response needs an \"id\""),
        (#"{"jsonrpc":"2.0","id":1}"#, "a message needs \"method\", \"result\" or \"error\""),
    ])
    func malformedMessagesAreRefusedWithTheReason(line: String, reason: String) {
        do {
            _ = try PluginMessage.decode(Array(line.utf8))
            Issue.record("\(line) was accepted")
        } catch {
            #expect("\(error)".contains(reason), "\(line): \(error)")
        }
    }

    @Test func encodedMessagesDecodeToThemselves() throws {
        let messages: [PluginMessage] = [
            .request(id: 7, method: "method.call", params: ["method": "a.b", "params": [1, "x"]]),
            .request(id: "s1", method: "daemon.call", params: ["method": "core.ping", "params": []]),
            .notification(method: "source.stop", params: ["source": "s"]),
            .result(id: "r", ["ok": true]),
            .error(id: 9, CallError(Errno.EAGAIN, "plugin x is restarting", extra: ["n": 1])),
        ]
        // The daemon's requests written straight into their line read back as the same request.
        let direct = PluginMessage.requestLine(id: 12, method: "job.run") { writer in
            writer.writeRaw(#"{"job":"#)
            writer.writeInteger(3)
            writer.writeRaw(#","context":"#)
            writer.write(["user": "ü\"q", "roles": []])
            writer.writeRaw("}")
        }
        #expect(try PluginMessage.decode(Array(direct.dropLast())) == .request(id: 12, method: "job.run", params: ["job": 3, "context": ["user": "ü\"q", "roles": []]]))
        for message in messages {
            let line = message.encoded()
            #expect(line.last == UInt8(ascii: "\n") && !line.dropLast().contains(UInt8(ascii: "\n")))
            #expect(try PluginMessage.decode(Array(line.dropLast())) == message)
        }
    }
}
