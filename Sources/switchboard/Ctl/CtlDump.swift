import ArgumentParser
import SwitchboardCore
import SwitchboardServer

struct CtlDump: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump", abstract: "What the daemon is doing: sessions with their calls, unfinished jobs, the dispatcher's queues.")

    @OptionGroup var options: CtlOptions

    func run() async throws {
        let client = await options.connect()
        let dump = await options.call(client, MethodName.controlDump)
        await client.close()
        options.report(dump) { CtlReport.dump(dump) }
    }
}
