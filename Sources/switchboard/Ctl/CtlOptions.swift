import ArgumentParser
import Foundation
import SwitchboardClient
import SwitchboardCore
import SwitchboardServer

/// How `switchboard ctl` finds the control socket, and how it reports: human-readable, or JSON for scripts.
struct CtlOptions: ParsableArguments {
    @Option(name: .long, help: "The control socket (default: dispatcher.control-socket of the configuration, <state-dir>/control.sock).")
    var socket: String?

    @Option(name: .long, help: "The daemon's configuration file, to find its control socket as `serve --config` places it.")
    var config: String?

    @Flag(name: .long, help: "Print the daemon's answer as JSON.")
    var json = false

    static let unreachable: Int32 = 3
    static let timedOut: Int32 = 4

    func socketPath() -> String {
        if let socket { return socket }
        let configuration: DaemonConfiguration
        do {
            configuration = try DaemonConfiguration.load(path: config, environment: ProcessInfo.processInfo.environment)
        } catch {
            exitWith(2, "configuration error: \(error)")
        }
        guard let path = configuration.resolvedControlSocketPath else {
            exitWith(2, "the configuration disables the control socket (dispatcher.control-socket is empty)")
        }
        return path
    }

    /// Connects, or says why not: nil with the reason.
    func tryConnect(_ path: String) async -> Result<RPCClient, any Error> {
        do {
            return .success(try await RPCClient.connect(to: ConnectionTarget(.unix(path: path))))
        } catch {
            return .failure(error)
        }
    }

    /// Connects or exits 3 with the reason.
    func connect() async -> RPCClient {
        let path = socketPath()
        var info = stat()
        if stat(path, &info) != 0 {
            if errno == ENOENT { exitWith(Self.unreachable, "no daemon is running: \(path) does not exist") }
            exitWith(Self.unreachable, "cannot use \(path): \(String(cString: strerror(errno))) (the control socket is for root and the daemon's user)")
        }
        if access(path, W_OK) != 0 {
            exitWith(Self.unreachable, "cannot use \(path): \(String(cString: strerror(errno))) (the control socket is for root and the daemon's user)")
        }
        switch await tryConnect(path) {
        case .success(let client): return client
        case .failure(let error):
            exitWith(Self.unreachable, "cannot reach the daemon at \(path): \(error)")
        }
    }

    /// Runs one control call: exits 1 when the daemon refuses it, 3 when the connection breaks.
    func call(_ client: RPCClient, _ method: String, _ params: [JSON] = []) async -> JSON {
        do {
            return try await client.call(method, params)
        } catch let error as ClientError {
            if case .call = error { exitWith(1, "\(error)") }
            exitWith(Self.unreachable, "the daemon went away: \(error)")
        } catch {
            exitWith(Self.unreachable, "the daemon went away: \(error)")
        }
    }

    /// Prints `value` as JSON with `--json`, else `human`'s text.
    func report(_ value: JSON, human: () -> String) {
        print(json ? value.encodedString(pretty: true) : human())
    }
}
