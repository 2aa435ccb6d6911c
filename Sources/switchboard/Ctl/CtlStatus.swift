import ArgumentParser
import SwitchboardCore
import SwitchboardServer

struct CtlStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "The daemon's pid, version, phase, uptime, connections, jobs, plugins and memory.")

    @OptionGroup var options: CtlOptions

    func run() async throws {
        let client = await options.connect()
        let status = await options.call(client, MethodName.controlStatus)
        await client.close()
        options.report(status) { CtlReport.status(status) }
    }
}
