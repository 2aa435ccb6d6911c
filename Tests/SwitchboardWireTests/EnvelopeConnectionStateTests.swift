import Testing
@testable import SwitchboardCore
@testable import SwitchboardWire

/// The per-connection bookkeeping of streamed answers: numbering, one fragment read at a time, the bound.
@Suite struct EnvelopeConnectionStateTests {
    @Test func fragmentsAreNumberedAndReadOneAtATime() throws {
        let state = EnvelopeConnectionState()
        try state.open("q", QueryStream(rows: [1, 2, 3]))
        #expect(throws: CallError.self) { try state.open("q", QueryStream(rows: [])) }
        #expect(try state.advance("q").1 == 1)
        // A second continue before the first fragment was read is refused, not served the same page again.
        let busy = #expect(throws: CallError.self) { _ = try state.advance("q") }
        #expect(busy?.errno == Errno.EBUSY)
        state.read("q")
        #expect(try state.advance("q").1 == 2)
        state.read("q")
        #expect(state.close("q"))
        let gone = #expect(throws: CallError.self) { _ = try state.advance("q") }
        #expect(gone?.errno == Errno.ENOENT && gone?.reason == "Invalid call")
        #expect(!state.close("q"))
    }

    @Test func openStreamsAreBounded() throws {
        let state = EnvelopeConnectionState(maxStreams: 2)
        try state.open("a", QueryStream(rows: []))
        try state.open("b", QueryStream(rows: []))
        let full = #expect(throws: CallError.self) { try state.open("c", QueryStream(rows: [])) }
        #expect(full?.errno == Errno.EBUSY)
        state.close("a")
        try state.open("c", QueryStream(rows: []))
        #expect(state.openStreams == 2)
    }
}
