import Synchronization

/// The daemon's file transfers: the slots that bound how many run at once, and the single-use tickets of
/// `core.download` URLs.
///
/// A ticket names one job, its output pipe and the file name to offer; it is good for one fetch within
/// `downloadExpiry`. One that nobody fetches in time is dropped and its pipe closed, so its job's next write
/// fails with EPIPE and the job ends instead of waiting for a reader forever. Bounds: `maxConcurrent` slots,
/// `maxPendingDownloads` tickets (each with one sleeping expiry task).
public final class Transfers: Sendable {
    public let limits: TransferLimits

    struct Ticket {
        var job: Int64
        var filename: String
        var pipe: JobPipe
        var expiry: Task<Void, Never>?
    }

    struct State {
        var running = 0
        var tickets: [String: Ticket] = [:]
    }

    let state = Mutex(State())

    public init(limits: TransferLimits = TransferLimits()) {
        self.limits = limits
    }

    // MARK: - Slots

    /// Takes a slot for one transfer; give it back with `release()`.
    /// - Throws: EBUSY (429) when `maxConcurrent` are running.
    public func acquire() throws(CallError) {
        try state.withLock { state throws(CallError) in
            guard state.running < limits.maxConcurrent else {
                throw CallError.busy("Too many file transfers in progress (\(limits.maxConcurrent)); try again when one has ended")
            }
            state.running += 1
        }
    }

    public func release() {
        state.withLock { $0.running = max(0, $0.running - 1) }
    }

    /// Transfers in progress.
    public var running: Int { state.withLock { $0.running } }

    // MARK: - Download tickets

    /// A single-use ticket for fetching `job`'s output as `filename`.
    /// - Throws: EBUSY when `maxPendingDownloads` tickets wait to be fetched.
    func issue(job: Int64, pipe: JobPipe, filename: String) throws(CallError) -> String {
        let token = Self.makeToken()
        try state.withLock { state throws(CallError) in
            guard state.tickets.count < limits.maxPendingDownloads else {
                throw CallError.busy("Too many downloads waiting to be fetched (\(limits.maxPendingDownloads))")
            }
            state.tickets[token] = Ticket(job: job, filename: filename, pipe: pipe)
        }
        let expiry = Task { [limits] in
            try? await Task.sleep(for: limits.downloadExpiry)
            guard !Task.isCancelled else { return }
            self.expire(token)
        }
        let kept = state.withLock { state -> Bool in
            guard state.tickets[token] != nil else { return false }
            state.tickets[token]?.expiry = expiry
            return true
        }
        if !kept { expiry.cancel() }
        return token
    }

    /// What a download needs, once: the job's output pipe and the file name.
    /// - Returns: nil when the token is unknown, used, expired or for another job.
    public func claim(job: Int64, token: String) -> (pipe: JobPipe, filename: String)? {
        let ticket = state.withLock { state -> Ticket? in
            guard let ticket = state.tickets[token], ticket.job == job else { return nil }
            state.tickets.removeValue(forKey: token)
            return ticket
        }
        guard let ticket else { return nil }
        ticket.expiry?.cancel()
        return (ticket.pipe, ticket.filename)
    }

    private func expire(_ token: String) {
        let ticket = state.withLock { $0.tickets.removeValue(forKey: token) }
        ticket?.pipe.close("Nobody fetched the download within \(limits.downloadExpiry)")
    }

    /// Download URLs handed out and not fetched yet.
    public var pendingDownloads: Int { state.withLock { $0.tickets.count } }

    /// 32 random bytes as hex; `SystemRandomNumberGenerator` reads the kernel's CSPRNG.
    static func makeToken() -> String {
        var generator = SystemRandomNumberGenerator()
        var text = ""
        text.reserveCapacity(64)
        for _ in 0..<4 {
            let word = generator.next() as UInt64
            let hex = String(word, radix: 16)
            text += String(repeating: "0", count: 16 - hex.count) + hex
        }
        return text
    }
}
