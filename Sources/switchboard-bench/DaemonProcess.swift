import Foundation
import SwitchboardClient
import SwitchboardCore

/// A `switchboard serve` child with a temporary state folder and its own port, with an admin token for clients.
final class DaemonProcess {
    let process: Process
    let port: Int
    let stateDir: String
    let socketPath: String
    var token = ""

    var pid: Int32 { process.processIdentifier }

    /// The `switchboard` executable beside this one.
    static var binary: String {
        let own = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        return own.deletingLastPathComponent().appendingPathComponent("switchboard").path
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Starts the daemon and waits until `/health` answers; returns the time that took.
    init(extraArguments: [String] = [], configuration: String = DaemonProcess.configuration()) throws {
        stateDir = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-bench-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        port = Self.freePort()
        socketPath = stateDir + "/switchboard.sock"
        // 8 x 32 in flight exceeds the default per-connection queue (10 running + 20 waiting): the load scenarios
        // measure throughput, not refusals, so the bench daemon queues more.
        let config = stateDir + "/bench.conf"
        // All the bench's connections come from 127.0.0.1, so the per-address caps are raised too: connections,
        // and the rate limit on unauthenticated calls (each load connection logs in with a token).
        // SWITCHBOARD_BENCH_DAEMON_CONFIG replaces that configuration, to compare settings (keep those keys).
        let text = ProcessInfo.processInfo.environment["SWITCHBOARD_BENCH_DAEMON_CONFIG"] ?? configuration
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["serve", "--config", config, "--state-dir", stateDir, "--port", String(port), "--log-level", "error"] + extraArguments
        // The debug UI is not measured, and the cluster scenario runs three daemons: none binds 8180.
        process.environment = ProcessInfo.processInfo.environment.merging(["SWITCHBOARD_FRONTEND_PORT": "off"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// The bench daemon's configuration. `maxRunningCalls`: calls of one connection running at once (the
    /// daemon's default is 10).
    /// `postgres`: a DSN for `datastore.driver: postgresql` (the node named `node`), else the embedded SQLite.
    ///
    /// For fanout the emitter is one connection, and with 10 of its calls running at once its updates, not the
    /// fan-out, bound the rate; it may run 64.
    static func configuration(maxRunningCalls: Int = 10, postgres: String? = nil, node: String? = nil) -> String {
        var datastore = ""
        if let postgres { datastore = #""datastore": {"driver": "postgresql", "dsn": "\#(postgres)"}, "#  }
        let name = node.map { #", "node-name": "\#($0)""# } ?? ""
        return #"{\#(datastore)"dispatcher": {"max-queued-calls": 1000, "max-running-calls": \#(maxRunningCalls)\#(name)}, "security": {"max-connections-per-address": 100000, "max-connections": 100000, "unauthenticated-calls": 1000000}}"#
    }

    /// Polls `GET /health` until it answers 200.
    func waitReady(timeout: Duration = .seconds(30)) throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if Self.healthy(port: port) { return }
            usleep(500)
        }
        throw ClientError.connectionFailed("the daemon did not become ready")
    }

    static func healthy(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 else { return false }
        // A probe that is never answered must not hang the bench: it gives up after a second and the caller
        // polls again. (A daemon still starting was seen to leave such a connection unanswered for minutes.)
        var limit = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let request = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 12 && String(decoding: buffer[0..<n], as: UTF8.self).hasPrefix("HTTP/1.1 200")
    }

    /// Creates a FULL_ADMIN over the local socket and a reusable token for the load connections.
    func prepareAdmin() async throws {
        let root = try await RPCClient.connect(to: ConnectionTarget(.unix(path: socketPath)))
        // On a shared database another node (or an earlier run) may have made it already.
        let made = try await root.request("user.create", [["username": "bench", "password": "bench-password", "roles": ["FULL_ADMIN"]]])
        // EEXIST arrives as a validation error of `user_create.username` (errno 17 in its extra).
        let exists = made["error"]?["data"]?["extra"]?[0]?[2] == 17
        if made["error"] != nil && !exists {
            throw ClientError.protocolViolation("cannot create the bench user: \(made)")
        }
        let client = try await RPCClient.connect(to: ConnectionTarget(.tcp(host: "127.0.0.1", port: port)))
        _ = try await client.call("auth.login", ["bench", "bench-password"])
        token = try await client.call("auth.generate_token", [86_400, [:], false, false]).stringValue ?? ""
        await client.close()
        await root.close()
    }

    func stop() {
        kill(pid, SIGTERM)
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: stateDir)
    }
}
