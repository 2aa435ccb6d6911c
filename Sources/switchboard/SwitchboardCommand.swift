import ArgumentParser
import Foundation
import SwitchboardCore

/// `switchboard`: the daemon and its command-line client.
@main
struct SwitchboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "The middleware daemon every client reads, changes and watches the system through.",
        version: Runtime.version,
        subcommands: [ServeCommand.self, CallCommand.self, SubscribeCommand.self, JobsCommand.self, CtlCommand.self])

    /// Usage errors exit 2 (not ArgumentParser's 64), so scripts can tell them from call errors (1).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            if let exit = error as? ExitCode {
                Foundation.exit(exit.rawValue)
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}
