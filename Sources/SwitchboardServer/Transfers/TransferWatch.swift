import Synchronization
import SwitchboardCore

/// Times the waits for a transfer's client: an upload waiting for the next chunk, a download waiting for the
/// client to take the last one. A wait longer than the stall timeout marks the transfer stalled and calls
/// `onStall` (which closes the connection). Waits on the job's side (its body slow to read an upload or write a
/// download) are not counted: only the client can stall a transfer.
final class TransferWatch: Sendable {
    let timeout: Duration
    private let base = ContinuousClock.now
    /// Nanoseconds after `base` when the current wait for the client began; -1 when not waiting.
    private let waitingSince = Atomic<Int64>(-1)
    private let stalledFlag = Atomic<Bool>(false)

    init(timeout: Duration) {
        self.timeout = timeout
    }

    private var now: Int64 { base.duration(to: .now).nanoseconds }

    /// The transfer waits for its client from now.
    func waiting() { waitingSince.store(now, ordering: .relaxed) }

    /// The client answered.
    func answered() { waitingSince.store(-1, ordering: .relaxed) }

    var stalled: Bool { stalledFlag.load(ordering: .relaxed) }

    /// Watches until cancelled, or until a wait passes the timeout: then marks the transfer stalled and calls
    /// `onStall` once.
    func watch(onStall: @Sendable () -> Void) async {
        let limit = timeout.nanoseconds
        while !Task.isCancelled {
            let since = waitingSince.load(ordering: .relaxed)
            let waited = since < 0 ? 0 : now - since
            if since >= 0, waited >= limit {
                stalledFlag.store(true, ordering: .relaxed)
                onStall()
                return
            }
            // Sleep until the current wait would pass the limit (or a whole timeout when none is going on).
            do {
                try await Task.sleep(for: .nanoseconds(limit - waited))
            } catch {
                return
            }
        }
    }

    /// The reason a stalled transfer's job is given.
    var stallError: CallError {
        CallError(Errno.ETIMEDOUT, "The client sent or took nothing for \(timeout) (transfers.stall-timeout-seconds)")
    }
}
