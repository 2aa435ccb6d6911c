import Logging
import SwitchboardCore

/// The first step of a stop: the calls in flight finish, within a grace, before the connections close.
extension Daemon {
    /// Refuses clients' new calls and waits until none is in flight, the grace has passed, or `hurried` says a
    /// second stop came. Polled every 20 ms: a stop is rare, and a count kept per call would cost every call a
    /// shared atomic on the hot path.
    static func drain(_ runtime: Runtime, control: DaemonControl, grace: Duration, logger: Logger, hurried: () -> Bool) async {
        control.stopping()
        runtime.drain.begin()
        let deadline = ContinuousClock.now.advanced(by: grace)
        var inFlight = runtime.sessions.callsInFlight
        guard inFlight > 0 else { return }
        logger.notice("stopping: new calls refused, waiting for the calls in flight",
                      metadata: ["calls": .stringConvertible(inFlight), "grace_s": .stringConvertible(grace.components.seconds)])
        while inFlight > 0, ContinuousClock.now < deadline, !hurried() {
            try? await Task.sleep(for: .milliseconds(20))
            inFlight = runtime.sessions.callsInFlight
        }
        if inFlight > 0 {
            logger.warning("stopping: interrupting the calls still in flight", metadata: ["calls": .stringConvertible(inFlight)])
        }
    }
}
