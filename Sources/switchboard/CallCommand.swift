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
            --upload FILE sends FILE to a method that reads an upload (POST /_upload, e.g. filesystem.put); --download FILE
            saves what a method writes (core.download, e.g. filesystem.get) into FILE, replaced only once whole. Both follow
            the job to its end, as -j does.
            Exit status: 0 success, 1 the call (or with -j the job) failed, reason on stderr; 2 usage or connection error.
            Without -u, connects to the local socket of the default configuration, where root needs no password.
            """)

    @OptionGroup var connection: ConnectionOptions

    @Flag(name: .shortAndLong, help: "The method is a job: follow its progress and print its result when it ends.")
    var job = false

    @Option(name: .long, help: "Upload this file to the method (it must read an upload, e.g. filesystem.put).")
    var upload: String?

    @Option(name: .long, help: "Save what the method writes into this file (it must write a download, e.g. filesystem.get).")
    var download: String?

    @Argument(help: "Method name, e.g. system.info.")
    var method: String

    @Argument(help: "Arguments.")
    var args: [String] = []

    static func parseArgument(_ text: String) -> JSON {
        (try? JSON.parse(text)) ?? .string(text)
    }

    func validate() throws {
        if upload != nil && download != nil { throw ValidationError("--upload and --download go to different methods: use one") }
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
        if let upload {
            try await runUpload(client, file: upload, params: params)
        } else if let download {
            try await runDownload(client, file: download, params: params)
        } else if job {
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

    /// Sends the file with a single-use token of this session, then follows the job.
    func runUpload(_ client: RPCClient, file: String, params: [JSON]) async throws {
        _ = await callOrExit(client, "core.subscribe", ["core.get_jobs"])
        let token = await callOrExit(client, "auth.generate_token", [60, [:], false, true])
        let id: Int64
        do {
            id = try await HTTPTransfer.upload(to: connection.target(), token: token.stringValue, method: method, params: params, file: file)
        } catch let error as ClientError {
            if case .call = error { exitWith(1, "\(error)") }
            exitWith(2, "\(error)")
        }
        let record = await JobFollower(client: client).follow(.int(id))
        await client.close()
        JobFollower.finish(record)
    }

    /// Asks for a download URL, saves it into the file, then follows the job (whose error says why a download broke).
    func runDownload(_ client: RPCClient, file: String, params: [JSON]) async throws {
        _ = await callOrExit(client, "core.subscribe", ["core.get_jobs"])
        let name = (file as NSString).lastPathComponent
        let answer = await callOrExit(client, MethodName.download, [.string(method), .array(params), .string(name)])
        guard let id = answer[0]?.intValue, let url = answer[1]?.stringValue else { exitWith(2, "core.download answered \(answer)") }
        var failure: String?
        do {
            _ = try await HTTPTransfer.download(from: connection.target(), path: url, to: file)
        } catch {
            failure = "\(error)"
        }
        let record = await JobFollower(client: client).follow(.int(id))
        await client.close()
        if let failure, JobFollower.finished(record), record["state"]?.stringValue == "SUCCESS" { exitWith(1, failure) }
        JobFollower.finish(record)
    }
}
