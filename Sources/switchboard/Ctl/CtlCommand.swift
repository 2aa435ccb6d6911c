import ArgumentParser

/// `switchboard ctl`: the operator's commands over the control socket (Zephserver's external control, FreeNAS's
/// dispatcherctl).
struct CtlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract: "Control a running daemon through its control socket (root or the daemon's user).",
        discussion: """
            Exit codes: 0 done; 1 the daemon refused or failed the request; 2 usage or configuration error; \
            3 the daemon cannot be reached (not running, no control socket, or not allowed); 4 timed out \
            (wait-ready, stop).
            """,
        subcommands: [CtlStatus.self, CtlStop.self, CtlReload.self, CtlLogLevel.self, CtlDump.self, CtlWaitReady.self])
}
