import ArgumentParser
import Foundation
import SwitchboardClient
import SwitchboardCore

struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Call a method and print its result as JSON.",
        discussion: """
            Each ARG is parsed as JSON, else taken as a string; '-' reads an ARG from standard input.
            Exit status: 0 success, 1 the call (or with -j the job) failed, reason on stderr; 2 usage or connection error.
            Without -u, connects to the local socket of the default configuration, where root needs no password.
            """)

    @OptionGroup var connection: ConnectionOptions

    @Flag(name: .shortAndLong, help: "The method is a job: follow its progress and print its result when it ends.")
    var job = false

    @Argument(help: "Method name, e.g. system.info.")
    var method: String

    @Argument(help: "Arguments.")
    var args: [String] = []

    static func parseArgument(_ text: String) -> JSON {
        (try? JSON.parse(text)) ?? .string(text)
    }

    func run() async throws {
        var params: [JSON] = []
        for arg in args {
            if arg == "-" {
                let data = FileHandle.standardInput.readDataToEndOfFile()
                params.append(Self.parseArgument(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
            } else {
                params.append(Self.parseArgument(arg))
            }
        }
        let client = await connection.connect()
        if job {
            // Subscribe first, so no progress event of the new job can be missed.
            _ = await callOrExit(client, "core.subscribe", ["core.get_jobs"])
            let id = await callOrExit(client, method, params)
            guard id.intValue != nil else { exitWith(2, "\(method) is not a job method (it returned \(id))") }
            let record = await JobFollower(client: client).follow(id)
            await client.close()
            JobFollower.finish(record)
        } else {
            let result = await callOrExit(client, method, params)
            print(result.encodedString(pretty: true))
            await client.close()
        }
    }
}
