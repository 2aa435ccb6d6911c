import Synchronization
import Testing
@testable import SwitchboardCore

/// `JobPipe` and `JobInput`: order, the bound a writer waits at, and each way either end can stop.
@Suite struct JobPipeTests {
    @Test func bytesArriveInOrderAndTheEndIsNil() async throws {
        let pipe = JobPipe(capacity: 10)
        let writer = Task {
            for index in 0..<100 { try await pipe.write([UInt8(index)]) }
            pipe.finish()
        }
        var read: [UInt8] = []
        while let chunk = try await pipe.read() { read += chunk }
        try await writer.value
        #expect(read == (0..<100).map { UInt8($0) })
        #expect(pipe.bytesWritten == 100)
    }

    @Test func aWriterWaitsWhileThePipeIsFull() async throws {
        let pipe = JobPipe(capacity: 4)
        let done = Atomic<Int>(0)
        let writer = Task {
            for _ in 0..<3 {
                try await pipe.write([1, 2, 3])
                done.add(1, ordering: .relaxed)
            }
        }
        // The second chunk takes the pipe past 4 bytes: that write parks until something is read.
        while pipe.state.withLock({ $0.writer == nil }) { await Task.yield() }
        #expect(done.load(ordering: .relaxed) == 1, "the writer went on past the bound")
        #expect(pipe.state.withLock { $0.held } == 6)
        // Each read brings it back under the bound and lets the next write through (which parks again).
        for _ in 0..<3 { #expect(try await pipe.read() == [1, 2, 3]) }
        try await writer.value
        #expect(done.load(ordering: .relaxed) == 3)
    }

    @Test func aReaderThatClosesStopsTheWriterWithItsReason() async throws {
        let pipe = JobPipe(capacity: 1)
        let writer = Task { () -> CallError? in
            do {
                while true { try await pipe.write([0, 0]) }
            } catch {
                return error as? CallError
            }
        }
        _ = try await pipe.read()
        pipe.close("job 7 ended")
        let error = await writer.value
        #expect(error?.errno == Errno.EPIPE)
        #expect(error?.reason == "job 7 ended")
        #expect(try await pipe.read() == nil)
    }

    @Test func aFailedWriterFailsTheReaderAfterWhatItWrote() async throws {
        let pipe = JobPipe()
        try await pipe.write([9])
        pipe.fail(CallError(Errno.ETIMEDOUT, "stalled"))
        #expect(try await pipe.read() == [9])
        await #expect(throws: CallError.self) { try await pipe.read() }
    }

    @Test func aCancelledReaderOrWriterStopsWaiting() async throws {
        let pipe = JobPipe(capacity: 1)
        let reader = Task { try await pipe.read() }
        reader.cancel()
        await #expect(throws: CancellationError.self) { try await reader.value }
        let full = JobPipe(capacity: 1)
        let writer = Task { try await full.write([1, 2, 3]) }
        writer.cancel()
        await #expect(throws: CancellationError.self) { try await writer.value }
    }

    @Test func anInputHandsOutFilesInOrderUpToItsLimit() async throws {
        let input = JobInput()
        let first = try input.addFile()
        try await first.write([1])
        first.finish()
        #expect(try await input.nextFile() === first)
        for _ in 1..<JobInput.maxFiles { _ = try input.addFile() }
        #expect(throws: CallError.self) { try input.addFile() }
        input.finish()
        for _ in 1..<JobInput.maxFiles { #expect(try await input.nextFile() != nil) }
        #expect(try await input.nextFile() == nil)
    }

    @Test func closingAnInputClosesTheFileBeingRead() async throws {
        let input = JobInput()
        let file = try input.addFile(capacity: 1)
        _ = try await input.nextFile()
        input.close("job ended")
        #expect(file.isClosed)
        await #expect(throws: CallError.self) { try await file.write([1]) }
        #expect(throws: CallError.self) { try input.addFile() }
    }
}
