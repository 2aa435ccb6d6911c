import DequeModule
import Synchronization

/// A one-way stream of bytes between a transfer and a job's body: an upload's file read by the job
/// (`JobContext.input`), or what the job writes for a download (`JobContext.output`). One writer, one reader.
///
/// Invariant and bound: at most `capacity` bytes plus one chunk are held. A writer whose chunk takes the buffer
/// past `capacity` waits until the reader has brought it back under, so a slow reader slows the client's TCP
/// window rather than growing the daemon's memory: a 1 GiB upload costs `capacity`, not a gigabyte, and no
/// temporary file.
///
/// Either end can stop: the writer with `finish()` (the reader then reads what is left, then nil) or `fail(_:)`
/// (the reader's next read throws it); the reader with `close(_:)`, which drops what is held and makes the
/// writer's next (or waiting) write throw EPIPE with the reason. A task cancelled while it waits is resumed
/// with `CancellationError`; the pipe stays usable by the other end.
public final class JobPipe: Sendable {
    /// 1 MiB: sixteen 64 KiB reads of a socket, enough to keep both ends busy.
    public static let defaultCapacity = 1 << 20

    public let capacity: Int

    struct State {
        var chunks = Deque<[UInt8]>()
        var held = 0
        /// Set when the writer is done: nil while it may still write, then `.success` or the failure.
        var writerEnd: Result<Void, CallError>?
        /// Set when the reader stopped: why.
        var readerClosed: String?
        var reader: CheckedContinuation<[UInt8]?, any Error>?
        var writer: CheckedContinuation<Void, any Error>?
        var readerCancelled = false
        var writerCancelled = false
        /// Bytes written so far, for a job's progress and the transfer's size limit.
        var written: Int64 = 0
    }

    let state = Mutex(State())

    public init(capacity: Int = JobPipe.defaultCapacity) {
        self.capacity = max(1, capacity)
    }

    /// Bytes written so far.
    public var bytesWritten: Int64 { state.withLock { $0.written } }

    // MARK: - Writer

    /// Adds bytes; returns once they are within the bound.
    /// - Throws: EPIPE when the reader has stopped (its reason); `CancellationError` when cancelled while waiting.
    public func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        let mustWait = try state.withLock { state throws(CallError) -> Bool in
            if let reason = state.readerClosed { throw Self.brokenPipe(reason) }
            if state.writerEnd != nil { throw Self.brokenPipe("the upload already ended") }
            state.chunks.append(bytes)
            state.held += bytes.count
            state.written += Int64(bytes.count)
            let reader = state.reader
            state.reader = nil
            if let reader {
                let chunk = state.chunks.removeFirst()
                state.held -= chunk.count
                reader.resume(returning: chunk)
            }
            return state.held > capacity
        }
        guard mustWait else { return }
        state.withLock { $0.writerCancelled = false }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: Result<Void, any Error>? = state.withLock { state in
                    if let reason = state.readerClosed { return .failure(Self.brokenPipe(reason)) }
                    if state.writerCancelled { return .failure(CancellationError()) }
                    if state.held <= capacity { return .success(()) }
                    state.writer = continuation
                    return nil
                }
                if let resumeNow { continuation.resume(with: resumeNow) }
            }
        } onCancel: {
            let writer = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                state.writerCancelled = true
                defer { state.writer = nil }
                return state.writer
            }
            writer?.resume(throwing: CancellationError())
        }
    }

    /// No more bytes: the reader reads what is held, then nil.
    public func finish() {
        end(.success(()))
    }

    /// The transfer broke (the client went away, stalled, sent too much): the reader's next read throws `error`.
    public func fail(_ error: CallError) {
        end(.failure(error))
    }

    private func end(_ result: Result<Void, CallError>) {
        let reader = state.withLock { state -> CheckedContinuation<[UInt8]?, any Error>? in
            guard state.writerEnd == nil else { return nil }
            state.writerEnd = result
            defer { state.reader = nil }
            return state.reader
        }
        switch result {
        case .success: reader?.resume(returning: nil)
        case .failure(let error): reader?.resume(throwing: error)
        }
    }

    // MARK: - Reader

    /// The next chunk, in order; nil once the writer has finished and everything was read.
    /// - Throws: the writer's failure; `CancellationError` when cancelled while waiting.
    public func read() async throws -> [UInt8]? {
        enum Now { case chunk([UInt8]?), failure(any Error), wait }
        func take(_ state: inout State) -> (Now, CheckedContinuation<Void, any Error>?) {
            if let chunk = state.chunks.popFirst() {
                state.held -= chunk.count
                var writer: CheckedContinuation<Void, any Error>?
                if state.held <= capacity { (writer, state.writer) = (state.writer, nil) }
                return (.chunk(chunk), writer)
            }
            if state.readerClosed != nil { return (.chunk(nil), nil) }
            switch state.writerEnd {
            case .success: return (.chunk(nil), nil)
            case .failure(let error): return (.failure(error), nil)
            case nil: return (.wait, nil)
            }
        }
        let (now, writer) = state.withLock { take(&$0) }
        writer?.resume()
        switch now {
        case .chunk(let chunk): return chunk
        case .failure(let error): throw error
        case .wait: break
        }
        state.withLock { $0.readerCancelled = false }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[UInt8]?, any Error>) in
                let (now, writer) = state.withLock { state -> (Now, CheckedContinuation<Void, any Error>?) in
                    if state.readerCancelled { return (.failure(CancellationError()), nil) }
                    let (now, writer) = take(&state)
                    if case .wait = now { state.reader = continuation }
                    return (now, writer)
                }
                writer?.resume()
                switch now {
                case .chunk(let chunk): continuation.resume(returning: chunk)
                case .failure(let error): continuation.resume(throwing: error)
                case .wait: break
                }
            }
        } onCancel: {
            let reader = state.withLock { state -> CheckedContinuation<[UInt8]?, any Error>? in
                state.readerCancelled = true
                defer { state.reader = nil }
                return state.reader
            }
            reader?.resume(throwing: CancellationError())
        }
    }

    /// Reads everything left, up to `limit` bytes.
    /// - Throws: E2BIG past `limit`, or what `read()` throws.
    public func readAll(limit: Int) async throws -> [UInt8] {
        var all: [UInt8] = []
        while let chunk = try await read() {
            guard all.count + chunk.count <= limit else { throw CallError(Errno.E2BIG, "More than \(limit) bytes") }
            all += chunk
        }
        return all
    }

    /// The reader stops: what is held is dropped and the writer's next write throws EPIPE with `reason`.
    /// Closing twice keeps the first reason.
    public func close(_ reason: String) {
        let writer = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard state.readerClosed == nil else { return nil }
            state.readerClosed = reason
            state.chunks.removeAll()
            state.held = 0
            defer { state.writer = nil }
            return state.writer
        }
        writer?.resume(throwing: Self.brokenPipe(reason))
    }

    /// Whether the reader has stopped.
    public var isClosed: Bool { state.withLock { $0.readerClosed != nil } }

    static func brokenPipe(_ reason: String) -> CallError {
        CallError(Errno.EPIPE, reason)
    }
}
