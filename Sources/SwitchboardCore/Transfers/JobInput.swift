import DequeModule
import Synchronization

/// An upload's files, in the order the client sent them, each a `JobPipe` the job reads as it arrives
/// (middlewared's input pipes: `POST /_upload` carries one to `maxFiles` file parts after its `data` part).
///
/// The transfer adds a file's pipe when its part begins and ends the sequence after the last part; the job
/// takes them with `nextFile()`. Bound: at most `maxFiles` pipes, each bounded by its own capacity. A job that
/// ends without reading everything closes the input (`JobContext` does it for every job), so the transfer stops
/// at once with EPIPE instead of waiting for a reader that is gone.
public final class JobInput: Sendable {
    /// middlewared's limit of file parts in one upload.
    public static let maxFiles = 5

    struct State {
        var files = Deque<JobPipe>()
        /// Every file's pipe so far (at most `maxFiles`), so closing reaches the one being read too.
        var opened: [JobPipe] = []
        var readerCancelled = false
        var ended: Result<Void, CallError>?
        var closed: String?
        var reader: CheckedContinuation<JobPipe?, any Error>?
    }

    let state = Mutex(State())

    public init() {}

    // MARK: - Transfer side

    /// A new file begins: returns the pipe to write it into.
    /// - Throws: EINVAL past `maxFiles`; EPIPE when the job has stopped reading.
    public func addFile(capacity: Int = JobPipe.defaultCapacity) throws(CallError) -> JobPipe {
        let pipe = JobPipe(capacity: capacity)
        let reader = try state.withLock { state throws(CallError) -> CheckedContinuation<JobPipe?, any Error>? in
            if let reason = state.closed { throw JobPipe.brokenPipe(reason) }
            guard state.ended == nil else { throw JobPipe.brokenPipe("the upload already ended") }
            guard state.opened.count < Self.maxFiles else { throw CallError(Errno.EINVAL, "Too many uploaded files (at most \(Self.maxFiles))") }
            state.opened.append(pipe)
            if let reader = state.reader {
                state.reader = nil
                return reader
            }
            state.files.append(pipe)
            return nil
        }
        reader?.resume(returning: pipe)
        return pipe
    }

    /// No more files.
    public func finish() { end(.success(())) }

    /// The upload broke before its last file: a job waiting for another file gets `error`.
    public func fail(_ error: CallError) { end(.failure(error)) }

    private func end(_ result: Result<Void, CallError>) {
        let reader = state.withLock { state -> CheckedContinuation<JobPipe?, any Error>? in
            guard state.ended == nil else { return nil }
            state.ended = result
            defer { state.reader = nil }
            return state.reader
        }
        switch result {
        case .success: reader?.resume(returning: nil)
        case .failure(let error): reader?.resume(throwing: error)
        }
    }

    // MARK: - Job side

    /// The next file, once its part has begun; nil after the last.
    /// - Throws: the upload's failure; `CancellationError` when cancelled while waiting.
    public func nextFile() async throws -> JobPipe? {
        state.withLock { $0.readerCancelled = false }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<JobPipe?, any Error>) in
            let now: Result<JobPipe?, any Error>? = state.withLock { state in
                if state.readerCancelled { return .failure(CancellationError()) }
                if let file = state.files.popFirst() { return .success(file) }
                if state.closed != nil { return .success(nil) }
                switch state.ended {
                case .success: return .success(nil)
                case .failure(let error): return .failure(error)
                case nil:
                    state.reader = continuation
                    return nil
                }
            }
            if let now { continuation.resume(with: now) }
            }
        } onCancel: {
            let reader = state.withLock { state -> CheckedContinuation<JobPipe?, any Error>? in
                state.readerCancelled = true
                defer { state.reader = nil }
                return state.reader
            }
            reader?.resume(throwing: CancellationError())
        }
    }

    /// The job stops reading: every file's pipe is closed with `reason`, and files added later are refused.
    public func close(_ reason: String) {
        let (files, reader) = state.withLock { state -> ([JobPipe], CheckedContinuation<JobPipe?, any Error>?) in
            guard state.closed == nil else { return ([], nil) }
            state.closed = reason
            let files = state.opened
            state.files.removeAll()
            defer { state.reader = nil }
            return (files, state.reader)
        }
        for file in files { file.close(reason) }
        reader?.resume(returning: nil)
    }
}
