#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import SwitchboardCore

/// One run of an external plugin's process, from spawn to exit: the process, its protocol link, its output,
/// and the handshake steps as they arrive. A restart is a new incarnation; nothing of the old one is reused.
final class PluginIncarnation: Sendable {
    /// What the handshake waits for, in the order it happens.
    enum Step: Sendable {
        case hello(id: JSON, params: JSON)
        case ready(id: JSON)
        /// The process ended, or its link broke, before the handshake finished.
        case ended(String)
        case timedOut
    }

    /// How a handshake failure reads when the plugin closed fd 3 (it usually is exiting).
    static let closedSocket = "it closed its protocol socket (fd 3)"

    let process: PluginProcess
    let link: PluginLink
    let output: PluginOutput
    let startedAt: ContinuousClock.Instant
    let exit: OneShot<PluginProcess.ExitStatus>
    /// Why the daemon killed it, when it did (a violation, a flood, a handshake timeout, a stop).
    let killReason = Mutex<String?>(nil)
    let steps: AsyncStream<Step>
    let stepsContinuation: AsyncStream<Step>.Continuation

    init(process: PluginProcess, link: PluginLink, output: PluginOutput, exit: OneShot<PluginProcess.ExitStatus>,
         steps: (AsyncStream<Step>, AsyncStream<Step>.Continuation)) {
        self.process = process
        self.link = link
        self.output = output
        self.exit = exit
        self.startedAt = .now
        self.steps = steps.0
        self.stepsContinuation = steps.1
    }

    /// Ends the wait for the next handshake step with `.timedOut` after `duration`; cancel it when done.
    func timeout(after duration: Duration) -> Task<Void, Never> {
        Task { [stepsContinuation] in
            try? await Task.sleep(for: duration)
            if !Task.isCancelled { stepsContinuation.yield(.timedOut) }
        }
    }

    /// Kills the whole process group at once, recording why; once only (the first reason wins).
    func kill(_ reason: String) {
        guard killReason.withLock({ current -> Bool in
            guard current == nil else { return false }
            current = reason
            return true
        }) else { return }
        link.failAll(CallError(Errno.EIO, reason))
        signal(SIGKILL)
    }

    /// Signals the process group, unless the process is known to have ended: once it is reaped its pid may be
    /// reused, and the signal must not reach a stranger.
    private func signal(_ number: CInt) {
        guard exit.value == nil else { return }
        process.signal(number)
    }

    /// SIGTERM, then SIGKILL past `grace`; returns once the process is gone.
    func stop(grace: Duration, reason: String) async {
        killReason.withLock { if $0 == nil { $0 = reason } }
        signal(SIGTERM)
        let done = await withTaskGroup(of: Bool.self) { group in
            group.addTask { _ = await self.exit.wait(); return true }
            group.addTask { try? await Task.sleep(for: grace); return false }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !done {
            signal(SIGKILL)
            _ = await exit.wait()
        }
        link.close()
    }
}
