import ArgumentParser
import Foundation
import SwitchboardClient
import SwitchboardCore

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "List, show, wait for, abort, or read the log of jobs.",
        discussion: "Actions: list (default), show ID, wait ID, abort ID, log ID.")

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "list | show | wait | abort | log")
    var action: String = "list"

    @Argument(help: "Job id (show, wait, abort, log).")
    var id: Int64?

    @Option(name: .long, help: "With list: only jobs in this state (WAITING, RUNNING, SUCCESS, FAILED, ABORTED).")
    var state: String?

    func validate() throws {
        guard ["list", "show", "wait", "abort", "log"].contains(action) else {
            throw ValidationError("unknown action '\(action)'; use list, show, wait, abort or log")
        }
        if action != "list" && id == nil { throw ValidationError("'\(action)' needs a job id") }
    }

    func run() async throws {
        let client = await connection.connect()
        switch action {
        case "list":
            let filters: JSON = state.map { [["state", "=", .string($0.uppercased())]] } ?? []
            let jobs = await callOrExit(client, "core.get_jobs", [filters, ["order_by": ["id"]]])
            for job in jobs.arrayValue ?? [] {
                let percent = job["progress"]?["percent"]?.intValue.map { "\($0)%" } ?? "-"
                let line = [String(job["id"]?.intValue ?? 0), job["state"]?.stringValue ?? "?", percent,
                            job["method"]?.stringValue ?? "", job["description"]?.stringValue ?? ""]
                print(line.joined(separator: "\t"))
            }
        case "show":
            print(await JobFollower.record(client, .int(id ?? 0)).encodedString(pretty: true))
        case "wait":
            _ = await callOrExit(client, "core.subscribe", ["core.get_jobs"])
            let record = await JobFollower(client: client).follow(.int(id ?? 0))
            await client.close()
            JobFollower.finish(record)
        case "abort":
            _ = await callOrExit(client, "core.job_abort", [.int(id ?? 0)])
        default:
            let text = await callOrExit(client, "core.job_log", [.int(id ?? 0)])
            print(text.stringValue ?? "", terminator: "")
        }
        await client.close()
    }
}
