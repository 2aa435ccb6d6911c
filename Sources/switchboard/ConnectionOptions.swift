import ArgumentParser
import Foundation
import SwitchboardClient
import SwitchboardCore
import SwitchboardServer

/// How a command reaches the daemon and logs in; shared by `call`, `subscribe` and `jobs`.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "ws://HOST:PORT[/path], wss://... (TLS) or a local socket path (default: the local socket of the default configuration).")
    var url: String?

    @Option(name: .long, help: "The daemon's configuration file, to find its local socket as `serve --config` places it.")
    var config: String?

    @Option(name: [.customShort("U"), .long], help: "Log in with this username.")
    var username: String?

    @Option(name: [.customShort("P"), .long], help: "Password for --username.")
    var password: String?

    @Option(name: .long, help: "The current one-time password, for --username when the account has two-factor login.")
    var otp: String?

    @Option(name: .long, help: "Log in with a token from auth.generate_token.")
    var token: String?

    @Option(name: .long, help: "Log in with an API key (<id>-<secret>, from api_key.create); SWITCHBOARD_API_KEY also works.")
    var apiKey: String?

    @Option(name: .long, help: "With wss://: a PEM file of certificates to trust (e.g. the daemon's self-signed certificate).")
    var cacert: String?

    @Flag(name: .long, help: "With wss://: do not check the daemon's certificate (testing only).")
    var insecure = false

    func validate() throws {
        if (username == nil) != (password == nil) { throw ValidationError("--username and --password go together") }
        if otp != nil && username == nil { throw ValidationError("--otp goes with --username and --password") }
        if [username != nil, token != nil, apiKey != nil].filter({ $0 }).count > 1 {
            throw ValidationError("use one of --username/--password, --token or --api-key")
        }
    }

    /// Connects and logs in; exits 2 when the daemon cannot be reached, 1 when the login is refused.
    func connect() async -> RPCClient {
        let target = self.target()
        let client: RPCClient
        do {
            client = try await RPCClient.connect(to: target)
        } catch {
            exitWith(2, "\(error)")
        }
        do {
            if let username, let password {
                try await logIn(client, username: username, password: password)
            } else if let key = apiKey ?? ProcessInfo.processInfo.environment["SWITCHBOARD_API_KEY"], !key.isEmpty {
                guard try await client.call("auth.login_with_api_key", [.string(key)]) == true else {
                    exitWith(1, "authentication failed: invalid, revoked or expired API key")
                }
            } else if let token {
                guard try await client.call("auth.login_with_token", [.string(token)]) == true else {
                    exitWith(1, "authentication failed: invalid or expired token")
                }
            }
        } catch let error as ClientError {
            // A refused login (an API key sent unencrypted, a locked-out address) is a failed call: 1.
            if case .call = error { exitWith(1, "authentication failed: \(error)") }
            exitWith(2, "\(error)")
        } catch {
            exitWith(2, "\(error)")
        }
        return client
    }
}

extension ConnectionOptions {
    /// Where `-u` (or the local socket) points; exits 2 when it cannot be parsed.
    func target() -> ConnectionTarget {
        guard let url else { return ConnectionTarget(.unix(path: localSocket())) }
        guard var parsed = ConnectionTarget.parse(url) else { exitWith(2, "invalid URL or socket path: \(url)") }
        if parsed.tls != nil { parsed.tls = .init(trustRootsFile: cacert, verifyCertificate: !insecure) }
        return parsed
    }

    /// The daemon's local socket, found as `serve` decides where to put it: `--config` (else the default file),
    /// then `SWITCHBOARD_STATE_DIR`/`SWITCHBOARD_UNIX_SOCKET`. Without any of them the default state folder is
    /// `./.switchboard`, so it is also looked for in each parent folder, as git finds `.git`: the CLI works from
    /// any folder below the one the daemon was started in. Exits 2 saying how to point at the daemon otherwise.
    func localSocket() -> String {
        let environment = ProcessInfo.processInfo.environment
        let configuration: DaemonConfiguration
        do {
            configuration = try DaemonConfiguration.load(path: config, environment: environment)
        } catch {
            exitWith(2, "configuration error: \(error)")
        }
        guard let socket = configuration.resolvedSocketPath else {
            exitWith(2, "the configuration disables the local socket (dispatcher.unix-socket is empty); use -u ws://HOST:PORT")
        }
        if FileManager.default.fileExists(atPath: socket) { return socket }
        let explicit = config != nil || FileManager.default.fileExists(atPath: DaemonConfiguration.defaultConfigFile)
            || ["SWITCHBOARD_STATE_DIR", "SWITCHBOARD_UNIX_SOCKET", "XDG_STATE_HOME"].contains { environment[$0]?.isEmpty == false }
        if !explicit {
            var folder = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).deletingLastPathComponent()
            while folder.path != "/" {
                let candidate = folder.appendingPathComponent(".switchboard/switchboard.sock").path
                if FileManager.default.fileExists(atPath: candidate) { return candidate }
                folder.deleteLastPathComponent()
            }
        }
        exitWith(2, "no daemon socket at \(socket)\(explicit ? "" : " or in a .switchboard folder above this one"); "
            + "start one with `switchboard serve`, or point at yours with -u SOCKET_OR_URL, --config FILE or SWITCHBOARD_STATE_DIR")
    }
}

/// Prints to stderr and exits: 1 for a failed call, 2 for usage and connection errors.
func exitWith(_ code: Int32, _ message: String) -> Never {
    FileHandle.standardError.write(Data("switchboard: \(message)\n".utf8))
    Foundation.exit(code)
}

/// Runs a call, exiting 1 with the reason when it fails and 2 when the connection breaks.
func callOrExit(_ client: RPCClient, _ method: String, _ params: [JSON] = []) async -> JSON {
    do {
        return try await client.call(method, params)
    } catch let error as ClientError {
        if case .call = error { exitWith(1, "\(error)") }
        exitWith(2, "\(error)")
    } catch {
        exitWith(2, "\(error)")
    }
}

extension ConnectionOptions {
    /// A password login as middlewared 25.04 does it: `auth.login_ex`, then the one-time password when the
    /// account asks for one, so that a missing `--otp` is told apart from a wrong password.
    func logIn(_ client: RPCClient, username: String, password: String) async throws {
        var answer = try await client.call("auth.login_ex", [["mechanism": "PASSWORD_PLAIN", "username": .string(username), "password": .string(password)]])
        if answer["response_type"] == "OTP_REQUIRED" {
            guard let otp else { exitWith(1, "authentication failed: this account needs a one-time password (--otp CODE)") }
            answer = try await client.call("auth.login_ex", [["mechanism": "OTP_TOKEN", "otp_token": .string(otp)]])
            if answer["response_type"] == "OTP_REQUIRED" { exitWith(1, "authentication failed: wrong, expired or already used one-time password") }
        }
        guard answer["response_type"] == "SUCCESS" else { exitWith(1, "authentication failed") }
    }
}
