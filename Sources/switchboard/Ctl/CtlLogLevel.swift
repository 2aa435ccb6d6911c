import ArgumentParser
import Logging
import SwitchboardCore
import SwitchboardServer

struct CtlLogLevel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log-level", abstract: "Set the level of every logger of the running daemon (until it restarts).")

    @OptionGroup var options: CtlOptions

    @Argument(help: "trace, debug, info, notice, warning, error or critical.") var level: String

    func validate() throws {
        guard Logger.Level(rawValue: level) != nil else {
            throw ValidationError("the level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        let client = await options.connect()
        let changed = await options.call(client, MethodName.controlLogLevel, [.string(level)])
        await client.close()
        options.report(changed) { "log level \(changed["previous"]?.stringValue ?? "?") -> \(changed["level"]?.stringValue ?? level)" }
    }
}
