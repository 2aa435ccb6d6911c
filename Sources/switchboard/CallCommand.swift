import ArgumentParser
import Foundation
import SwitchboardClient
import SwitchboardCore
import SwitchboardServer

struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Call a method and print its result as JSON.",
        discussion: """
            Each ARG is parsed as JSON, else taken as a string; '-' reads an ARG from standard input.
            Exit status: 0 success, 1 the call failed (reason on stderr), 2 usage or connection error.
            Without -u, connects to the local socket of the default configuration, where root needs no password.
            """)

    @Option(name: .shortAndLong, help: "ws://HOST:PORT[/path] or a local socket path.")
    var url: String?

    @Option(name: [.customShort("U"), .long], help: "Log in with this username.")
    var username: String?

    @Option(name: [.customShort("P"), .long], help: "Password for --username.")
    var password: String?

    @Option(name: .long, help: "Log in with a token from auth.generate_token.")
    var token: String?

    @Argument(help: "Method name, e.g. system.info.")
    var method: String

    @Argument(help: "Arguments.")
    var args: [String] = []

    func validate() throws {
        if (username == nil) != (password == nil) { throw ValidationError("--username and --password go together") }
        if username != nil && token != nil { throw ValidationError("use either --username/--password or --token") }
    }

    static func parseArgument(_ text: String) -> JSON {
        (try? JSON.parse(text)) ?? .string(text)
    }

    func run() async throws {
        var params: [JSON] = []
        for arg in args {
            if arg == "-" {
                let data = FileHandle.standardInput.readDataToEndOfFile()
                let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                params.append(Self.parseArgument(text))
            } else {
                params.append(Self.parseArgument(arg))
            }
        }
        let target: ConnectionTarget
        if let url {
            guard let parsed = ConnectionTarget.parse(url) else { fail(2, "invalid URL or socket path: \(url)") }
            target = parsed
        } else {
            let configuration = (try? DaemonConfiguration.load(path: nil)) ?? DaemonConfiguration()
            guard let socket = configuration.resolvedSocketPath else { fail(2, "no local socket is configured; use -u") }
            target = ConnectionTarget(.unix(path: socket))
        }
        let client: RPCClient
        do {
            client = try await RPCClient.connect(to: target)
        } catch {
            fail(2, "\(error)")
        }
        do {
            if let username, let password {
                guard try await client.call("auth.login", [.string(username), .string(password)]) == true else {
                    fail(1, "authentication failed")
                }
            } else if let token {
                guard try await client.call("auth.login_with_token", [.string(token)]) == true else {
                    fail(1, "authentication failed: invalid or expired token")
                }
            }
            let result = try await client.call(method, params)
            print(result.encodedString(pretty: true))
            await client.close()
        } catch let error as ClientError {
            if case .call = error { fail(1, "\(error)") }
            fail(2, "\(error)")
        }
    }

    func fail(_ code: Int32, _ message: String) -> Never {
        FileHandle.standardError.write(Data("switchboard call: \(message)\n".utf8))
        Foundation.exit(code)
    }
}
