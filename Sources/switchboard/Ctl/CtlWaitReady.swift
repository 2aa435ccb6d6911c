import ArgumentParser
import Foundation
import SwitchboardClient
import SwitchboardCore
import SwitchboardServer

struct CtlWaitReady: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait-ready", abstract: "Wait until the daemon is ready (every listener open), for scripts that start it.")

    @OptionGroup var options: CtlOptions

    @Option(help: "Seconds to wait.") var timeout: Double = 30

    func run() async throws {
        let path = options.socketPath()
        let deadline = Date().addingTimeInterval(timeout)
        var why = "\(path) does not exist yet"
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: path) {
                switch await options.tryConnect(path) {
                case .success(let client):
                    let status = try? await client.call(MethodName.controlStatus)
                    await client.close()
                    let phase = status?["phase"]?.stringValue ?? "unknown"
                    if phase == DaemonPhase.ready.rawValue, let status {
                        options.report(status) { "ready" }
                        return
                    }
                    why = "the daemon is \(phase)"
                case .failure(let error):
                    why = "\(error)"
                }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        exitWith(CtlOptions.timedOut, "the daemon was not ready after \(Int(timeout)) s: \(why)")
    }
}
