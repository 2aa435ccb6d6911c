import ArgumentParser
import SwitchboardCore
import SwitchboardServer

struct CtlReload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload", abstract: "Reload a plugin and those that depend on it, or every plugin, with the configuration read again.")

    @OptionGroup var options: CtlOptions

    @Argument(help: "The plugin (default: every plugin).") var plugin: String?

    func run() async throws {
        let client = await options.connect()
        let reloaded = await options.call(client, MethodName.controlReload, [plugin.map(JSON.string) ?? .null])
        await client.close()
        options.report(reloaded) {
            let entries = reloaded.arrayValue ?? []
            return "reloaded \(entries.count) plugin\(entries.count == 1 ? "" : "s"):\n" + CtlReport.plugins(entries)
        }
    }
}
