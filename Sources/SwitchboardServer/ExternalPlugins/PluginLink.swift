import NIOCore
import NIOPosix
import Synchronization
import SwitchboardCore
import SwitchboardWire

/// The protocol socket of one plugin process (fd 3 on its side): lines out, lines in, and the daemon's
/// requests waiting for their responses.
///
/// Responses are matched here; requests and notifications from the plugin go to `onMessage`, called on the
/// channel's event loop in the order they arrived (handling them must not block). A line over the limit, a
/// line that is not a JSON-RPC message, or a response to nothing is a protocol violation: `onViolation` is
/// called once and the link reads no further. Requests still waiting when the link fails or closes end at
/// once with the error given to `failAll`.
final class PluginLink: Sendable {
    typealias MessageHandler = @Sendable (PluginMessage) -> Void
    typealias ViolationHandler = @Sendable (String) -> Void

    /// What a daemon request does when its caller goes away: a call is cancelled at once (`call.cancel`), a job
    /// is told to abort (`job.abort`) and the response is still awaited, since the job ends when the plugin says.
    enum Cancellation: Sendable {
        case cancelCall
        case abortJob(Int64)
    }

    private struct Pending {
        let continuation: CheckedContinuation<JSON, any Error>
        let method: String
        let deadline: ContinuousClock.Instant?
    }

    private struct State {
        var nextID: Int64 = 1
        var pending: [Int64: Pending] = [:]
        /// Set once: later requests fail at once with it.
        var failure: CallError?
        /// Lines sent since the last write: every send between two turns of the event loop goes out in one write.
        var unsent: [UInt8] = []
        var writeScheduled = false
    }

    let channel: any Channel
    private let state = Mutex(State())
    /// Checks deadlines a few times a second: one timer per link, not one per request.
    private let sweep = Mutex<RepeatedTask?>(nil)
    static let sweepInterval = TimeAmount.milliseconds(100)

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// Wraps the daemon's end of the socket pair; takes ownership of `descriptor`. Nothing is read until
    /// `startReading`, so whatever handles the messages can be in place before the first one (a quick
    /// plugin's hello) arrives.
    static func open(descriptor: CInt, on loop: any EventLoop, maxLine: Int, onMessage: @escaping MessageHandler,
                     onViolation: @escaping ViolationHandler, onClose: @escaping @Sendable () -> Void) async throws -> PluginLink {
        let box = Mutex<PluginLink?>(nil)
        let handle: @Sendable (PluginLink, UnsafeRawBufferPointer) -> Void = { link, line in
            let message: PluginMessage
            do {
                message = try PluginMessage.decode(buffer: line)
            } catch {
                link.violate("\(error)", onViolation)
                return
            }
            switch message {
            case .result(let id, let value): link.resolve(id, .success(value), onViolation)
            case .error(let id, let error): link.resolve(id, .failure(error), onViolation)
            case .request, .notification: onMessage(message)
            }
        }
        let onLine: @Sendable (UnsafeRawBufferPointer) -> Void = { line in
            if let link = box.withLock({ $0 }) { handle(link, line) }
        }
        let onTooLong: @Sendable (Int) -> Void = { limit in
            box.withLock({ $0 })?.violate("a line over \(limit) bytes", onViolation)
        }
        let channel = try await ClientBootstrap(group: loop)
            .channelOption(.allowRemoteHalfClosure, value: false)
            .channelOption(.autoRead, value: false)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        PluginLineHandler(maxLine: maxLine, onLine: onLine, onTooLong: onTooLong, onClose: onClose))
                }
            }
            .withConnectedSocket(descriptor)
            .get()
        let link = PluginLink(channel: channel)
        let timer = channel.eventLoop.scheduleRepeatedTask(initialDelay: sweepInterval, delay: sweepInterval) { [weak link] _ in
            link?.expire(now: .now)
        }
        link.sweep.withLock { $0 = timer }
        channel.closeFuture.whenComplete { _ in timer.cancel() }
        box.withLock { $0 = link }
        return link
    }

    /// Starts reading what the plugin sends.
    func startReading() {
        channel.setOption(.autoRead, value: true).whenSuccess { [channel] in channel.read() }
    }

    // MARK: - Sending

    func send(_ message: PluginMessage) {
        send(line: message.encoded())
    }

    /// Queues one encoded line (ending in a newline) for the next write.
    private func send(line bytes: [UInt8]) {
        let schedule = state.withLock { state -> Bool in
            state.unsent.append(contentsOf: bytes)
            defer { state.writeScheduled = true }
            return !state.writeScheduled
        }
        guard schedule else { return }
        channel.eventLoop.execute { [self] in
            let batch = state.withLock { state -> [UInt8] in
                state.writeScheduled = false
                defer { state.unsent.removeAll(keepingCapacity: state.unsent.count <= 65_536) }
                return state.unsent
            }
            var buffer = channel.allocator.buffer(capacity: batch.count)
            buffer.writeBytes(batch)
            channel.writeAndFlush(buffer, promise: nil)
        }
    }

    func notify(_ method: String, _ params: JSON) {
        send(.notification(method: method, params: params))
    }

    /// Sends a request and waits for its response, at most until `deadline` (ETIMEDOUT, and the plugin is told
    /// to cancel it).
    /// - Throws: the plugin's error as a `CallError`, the link's failure, ETIMEDOUT, or `CancellationError`.
    func request(_ method: String, _ params: JSON, deadline: ContinuousClock.Instant? = nil,
                 cancellation: Cancellation = .cancelCall) async throws -> JSON {
        try await request(method, deadline: deadline, cancellation: cancellation) { $0.write(params) }
    }

    /// Sends a request whose params `writeParams` writes straight into its line (see `PluginMessage.requestLine`).
    func request(_ method: String, deadline: ContinuousClock.Instant? = nil, cancellation: Cancellation = .cancelCall,
                 params writeParams: (inout JSONWriter) -> Void) async throws -> JSON {
        let id = state.withLock { state -> Int64 in
            defer { state.nextID += 1 }
            return state.nextID
        }
        let line = PluginMessage.requestLine(id: id, method: method, params: writeParams)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<JSON, any Error>) in
                let failure = state.withLock { state -> CallError? in
                    if let failure = state.failure { return failure }
                    state.pending[id] = Pending(continuation: continuation, method: method, deadline: deadline)
                    return nil
                }
                if let failure {
                    continuation.resume(throwing: failure)
                    return
                }
                send(line: line)
            }
        } onCancel: {
            switch cancellation {
            case .cancelCall:
                if self.finish(id, .failure(CancellationError())) { self.notify("call.cancel", ["id": .int(id)]) }
            case .abortJob(let job):
                self.notify("job.abort", ["job": .int(job)])
            }
        }
    }

    /// Fails every waiting request with `error`, and every later one; the link is finished.
    func failAll(_ error: CallError) {
        let pending = state.withLock { state -> [Pending] in
            if state.failure == nil { state.failure = error }
            defer { state.pending.removeAll() }
            return Array(state.pending.values)
        }
        for request in pending { request.continuation.resume(throwing: error) }
    }

    func close() {
        sweep.withLock { $0?.cancel() }
        channel.close(promise: nil)
    }

    var waitingCount: Int { state.withLock { $0.pending.count } }

    /// Fails the requests whose deadline has passed with ETIMEDOUT, and tells the plugin to cancel them.
    private func expire(now: ContinuousClock.Instant) {
        let expired = state.withLock { state -> [(Int64, Pending)] in
            let due = state.pending.filter { $0.value.deadline.map { $0 <= now } ?? false }
            for (id, _) in due { state.pending.removeValue(forKey: id) }
            return Array(due)
        }
        for (id, request) in expired {
            request.continuation.resume(throwing: CallError(Errno.ETIMEDOUT, "The plugin did not answer \(request.method) in time"))
            notify("call.cancel", ["id": .int(id)])
        }
    }

    // MARK: - Receiving

    @discardableResult
    private func finish(_ id: Int64, _ result: Result<JSON, any Error>) -> Bool {
        guard let request = state.withLock({ $0.pending.removeValue(forKey: id) }) else { return false }
        request.continuation.resume(with: result)
        return true
    }

    private func resolve(_ id: JSON, _ result: Result<JSON, any Error>, _ onViolation: ViolationHandler) {
        guard let number = id.intValue else {
            violate("a response to an id the daemon never sent: \(id)", onViolation)
            return
        }
        // A response to a request already timed out or cancelled is expected, not a violation; one to an id
        // never sent is.
        if !finish(number, result), number >= state.withLock({ $0.nextID }) {
            violate("a response to an id the daemon never sent: \(number)", onViolation)
        }
    }

    private func violate(_ reason: String, _ onViolation: ViolationHandler) {
        let first = state.withLock { state -> Bool in
            guard state.failure == nil else { return false }
            state.failure = CallError(Errno.EFAULT, "protocol violation: \(reason)")
            return true
        }
        guard first else { return }
        onViolation(reason)
    }
}
