import ArgumentParser
import Foundation
import SwitchboardClient
import SwitchboardCore
import SwitchboardServer

struct CtlStop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop",
        abstract: "Stop the daemon as SIGTERM does (running jobs get jobs.shutdown-grace-seconds), and wait until it has stopped.")

    @OptionGroup var options: CtlOptions

    @Option(help: "Seconds to wait for the daemon to stop.") var timeout: Double = 120

    @Flag(help: "Return once the daemon has accepted the stop, without waiting for it.") var noWait = false

    func run() async throws {
        let client = await options.connect()
        // The daemon's pid, to wait for its exit: its sockets close (and their files go) before it has finished.
        let pid = await options.call(client, MethodName.controlStatus)["pid"]?.intValue
        // The daemon answers, then closes every connection as it stops: a connection that closes instead of the
        // answer is a stop under way too.
        let accepted: JSON
        do {
            accepted = try await client.call(MethodName.controlStop)
        } catch let error as ClientError {
            if case .call = error { exitWith(1, "\(error)") }
            accepted = true
        } catch {
            accepted = true
        }
        await client.close()
        guard !noWait else {
            options.report(["stopping": accepted]) { "stopping" }
            return
        }
        let deadline = Date().addingTimeInterval(timeout)
        while let pid, kill(pid_t(pid), 0) == 0 || errno != ESRCH {
            if Date() >= deadline { exitWith(CtlOptions.timedOut, "the daemon has not stopped after \(Int(timeout)) s") }
            try await Task.sleep(for: .milliseconds(50))
        }
        options.report(["stopped": true]) { "stopped" }
    }
}
