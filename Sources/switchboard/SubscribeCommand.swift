import ArgumentParser
import Foundation
import SwitchboardClient
import SwitchboardCore

struct SubscribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscribe",
        abstract: "Print events as JSON lines: an event name, `*`, `prefix.*`, or `source:{json}`.")

    @OptionGroup var connection: ConnectionOptions

    @Option(name: [.customShort("n"), .long], help: "Stop after this many events.")
    var count: Int?

    @Option(name: .shortAndLong, help: "Stop after this many seconds.")
    var timeout: Double?

    @Argument(help: "Event name or mask.")
    var event: String

    func run() async throws {
        let client = await connection.connect()
        _ = await callOrExit(client, "core.subscribe", [.string(event)])
        let limit = count
        let printer = Task {
            var printed = 0
            for await message in client.notifications {
                if message["method"] == "notify_unsubscribed" {
                    if let error = message["params"]?["error"], !error.isNull {
                        exitWith(1, "the event stream ended: \(error["reason"]?.stringValue ?? error.encodedString())")
                    }
                    return
                }
                guard message["method"] == "collection_update", let params = message["params"] else { continue }
                // Unbuffered, so a pipe reader sees each event as it arrives.
                FileHandle.standardOutput.write(Data((params.encodedString() + "\n").utf8))
                printed += 1
                if let limit, printed >= limit { return }
            }
        }
        if let timeout {
            let deadline = Task {
                try await Task.sleep(for: .milliseconds(Int(timeout * 1000)))
                printer.cancel()
            }
            await printer.value
            deadline.cancel()
        } else {
            await printer.value
        }
        await client.close()
    }
}
