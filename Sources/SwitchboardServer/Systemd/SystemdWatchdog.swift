import Foundation
import Logging
import NIOCore
import SwitchboardCore

/// systemd's watchdog (`WatchdogSec=`): `WATCHDOG=1` every half of `WATCHDOG_USEC`, but only while the daemon
/// is well: every event loop runs a task it is given, and the datastore answers a trivial statement, each within
/// half the interval. When one does not, no `WATCHDOG=1` goes out (systemd then kills and restarts the daemon once
/// `WatchdogSec` has passed) and a `STATUS=` line says which; a check that passes again resumes them.
public struct SystemdWatchdog: Sendable {
    let notifier: SystemdNotifier
    let interval: Duration
    let loops: [any EventLoop]
    let ping: @Sendable () async throws -> Void
    let logger: Logger

    /// The watchdog `environment` asks for (`WATCHDOG_USEC`, and `WATCHDOG_PID` naming this process when set),
    /// or nil.
    public init?(notifier: SystemdNotifier, environment: [String: String] = ProcessInfo.processInfo.environment,
                 loops: [any EventLoop], ping: @escaping @Sendable () async throws -> Void, logger: Logger) {
        guard let text = environment["WATCHDOG_USEC"], let usec = Int64(text), usec > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"], !pid.isEmpty, pid != String(getpid()) { return nil }
        self.notifier = notifier
        interval = .microseconds(usec / 2)
        self.loops = loops
        self.ping = ping
        self.logger = logger
    }

    /// Checks and notifies until cancelled.
    public func run() async {
        var failing: String?
        while !Task.isCancelled {
            let started = ContinuousClock.now
            let problem = await check(within: interval / 2)
            if let problem {
                if failing != problem {
                    logger.error("watchdog: \(problem); not telling systemd the daemon is alive")
                    notifier.send(["STATUS=unhealthy: \(problem)"])
                }
            } else {
                if failing != nil {
                    logger.notice("watchdog: healthy again")
                    notifier.send(["WATCHDOG=1", "STATUS=ready"])
                } else {
                    notifier.send(["WATCHDOG=1"])
                }
            }
            failing = problem
            try? await Task.sleep(until: started + interval, clock: .continuous)
        }
    }

    /// What is wrong, or nil: each event loop and the datastore must answer within `bound`.
    func check(within bound: Duration) async -> String? {
        for (index, loop) in loops.enumerated() {
            let answered = await Deadline.finishes(within: bound) { try await loop.submit {}.get() }
            if !answered { return "event loop \(index) did not run a task within \(Self.milliseconds(bound)) ms" }
        }
        let ping = self.ping
        if !(await Deadline.finishes(within: bound) { try await ping() }) {
            return "the datastore did not answer within \(Self.milliseconds(bound)) ms"
        }
        return nil
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}
