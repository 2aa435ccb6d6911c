import Foundation
import NIOCore
import NIOPosix
import SwitchboardClient
import SwitchboardCore
import Testing

/// What the real binary says when it cannot start, and how it exits: configuration errors (the operator's file,
/// found early or late) exit 2 with the key's path; a port in use exits 1 with one sentence that names it.
@Suite struct StartupErrorTests {
    func serve(_ configuration: String?, _ extra: [String] = []) async throws -> Binary.Output {
        let dir = TestDaemon.makeStateDir()
        var arguments = ["serve", "--state-dir", dir, "--port", "0"] + extra
        if let configuration {
            try configuration.write(toFile: dir + "/c.json", atomically: true, encoding: .utf8)
            arguments += ["--config", dir + "/c.json"]
        }
        return try await Binary.run(arguments)
    }

    @Test func aMissingConfigurationFileSaysWhy() async throws {
        let output = try await Binary.run(["serve", "--config", "/nonexistent/switchboard.json"])
        #expect(output.status == 2)
        #expect(output.stderr.contains("cannot read configuration file /nonexistent/switchboard.json: No such file or directory"), "\(output.stderr)")
    }

    @Test(arguments: [
        (#"{"plugins": {"user": {"bcrypt_cst": 4}}}"#, "plugins.user.bcrypt_cst: unknown key (known: bcrypt_cost, enabled)"),
        (#"{"plugins": {"user": {"bcrypt_cost": 99}}}"#, "plugins.user.bcrypt_cost:"),
        (#"{"plugins": {"dispatcher": {"allow_shel": true}}}"#, "plugins.dispatcher.allow_shel: unknown key"),
        (#"{"plugins": {"dispatcher": {"environment": {"PATH": 1}}}}"#, "plugins.dispatcher.environment.PATH:"),
        (#"{"plugins": {"usr": {"enabled": false}}}"#, "plugins.usr: unknown plugin (known: "),
        (#"{"plugins": {"audit": {"retention": 3}}}"#, "plugins.audit.retention: unknown key (known: enabled)"),
    ])
    func aPluginSettingItsSchemaRefusesStopsTheStartWithItsPath(configuration: String, expected: String) async throws {
        let output = try await serve(configuration)
        #expect(output.status == 2)
        #expect(output.stderr.contains("switchboard: configuration error: " + expected), "\(output.stderr)")
    }

    @Test func aMissingTLSFileIsAConfigurationError() async throws {
        let output = try await serve(#"{"dispatcher": {"tls": true, "tls-certificate": "/nonexistent/cert.pem", "tls-private-key": "/nonexistent/key.pem"}}"#)
        #expect(output.status == 2)
        #expect(output.stderr.contains(
            "configuration error: dispatcher.tls-certificate: cannot read a PEM certificate from /nonexistent/cert.pem: No such file or directory"),
                "\(output.stderr)")
    }

    @Test func aSocketPathTooLongIsAConfigurationError() async throws {
        let long = "/tmp/" + String(repeating: "s", count: 120) + "/switchboard.sock"
        let output = try await serve(nil, ["--socket", long])
        #expect(output.status == 2)
        #expect(output.stderr.contains("configuration error: dispatcher.unix-socket: the local socket path \(long) is \(long.utf8.count) bytes; the system allows at most 107"),
                "\(output.stderr)")
    }

    /// A datastore that cannot be opened is a failure to start (exit 1), said in one line (issue 16).
    @Test(arguments: ["corrupt", "directory"])
    func anUnopenableDatastoreExitsOne(kind: String) async throws {
        let dir = TestDaemon.makeStateDir()
        let path = dir + "/switchboard.db"
        if kind == "corrupt" {
            try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: path))
        } else {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        let output = try await Binary.run(["serve", "--state-dir", dir, "--port", "0"], timeout: .seconds(30))
        #expect(output.status == 1, "\(kind): \(output.stderr)")
        #expect(output.stderr.contains("switchboard: [EIO] Cannot open the SQLite datastore at \(path): SQLite error "), "\(kind): \(output.stderr)")
        #expect(output.stderr.contains(kind == "corrupt" ? "file is not a database" : "unable to open database file"), "\(output.stderr)")
        #expect(output.stderr.split(separator: "\n").filter { $0.hasPrefix("switchboard: ") }.count == 1, "\(output.stderr)")
    }

    @Test func aPortInUseIsOneSentenceNamingIt() async throws {
        let holder = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(holder.localAddress?.port)
        let output = try await serve(nil, ["--port", String(port)])
        try await holder.close()
        #expect(output.status == 1)
        #expect(output.stderr.contains("switchboard: cannot listen on 127.0.0.1:\(port): the port is in use by another program"), "\(output.stderr)")
        #expect(!output.stderr.contains("CancellationError") && !output.stderr.contains("bind(descriptor"), "\(output.stderr)")
    }

    /// SIGHUP reloads the plugins with the configuration file read again; a file that cannot be used is logged
    /// and the daemon goes on with what it has.
    @Test func sighupReloadsThePluginsWithTheFileReadAgain() async throws {
        let daemon = try await ServedBinary.start(configuration: #"{"plugins": {"dispatcher": {"queues": ["alpha"]}}}"#)
        let client = try await RPCClient.connect(to: ConnectionTarget(.unix(path: daemon.socket)))
        let run: JSON = ["queue": "beta", "j1": "true"]
        do {
            _ = try await client.call("dispatcher.run", [run])
            Issue.record("queue beta exists before the reload")
        } catch ClientError.call(_, _, let data) {
            #expect(data["extra"]?[0]?[0] == "args.queue", "\(data)")
        }
        try #"{"plugins": {"dispatcher": {"queues": ["alpha", "beta"]}}}"#.write(toFile: daemon.stateDir + "/config.json", atomically: true, encoding: .utf8)
        kill(daemon.pid, SIGHUP)
        try await daemon.waitForLog("plugins reloaded")
        #expect(try await client.call("dispatcher.run", [run])["started"] == ["j1"])
        // A file that is not JSON: logged, nothing torn down.
        try "{".write(toFile: daemon.stateDir + "/config.json", atomically: true, encoding: .utf8)
        kill(daemon.pid, SIGHUP)
        try await daemon.waitForLog("plugin reload failed")
        #expect(try await client.call("plugin.query", [[["name", "=", "dispatcher"]], ["get": true]])["state"] == "loaded")
        #expect(try await client.call("core.ping") == "pong")
        await client.close()
        #expect(try await daemon.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: daemon.socket), "the socket file is removed")
    }
}

/// `serve` with a bad flag or environment variable: each exits with its documented status (2 for what the
/// operator wrote, 1 for what the machine refused) and one line that names the flag, variable or path.
@Suite struct BadInvocationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var arguments: [String]
        var environment: [String: String] = [:]
        var status: Int32
        var message: String
        var testDescription: String { (environment.map { "\($0.key)=\($0.value)" } + arguments).joined(separator: " ") }
    }

    static let cases: [Case] = [
        Case(arguments: [], environment: ["SWITCHBOARD_PORT": "many"], status: 2,
             message: "switchboard: configuration error: SWITCHBOARD_PORT: must be a port number, not 'many'"),
        Case(arguments: [], environment: ["SWITCHBOARD_PORT": "70000"], status: 2,
             message: "switchboard: configuration error: SWITCHBOARD_PORT: must be a port number, not '70000'"),
        Case(arguments: [], environment: ["SWITCHBOARD_LOG_LEVEL": "loud"], status: 2,
             message: "switchboard: configuration error: SWITCHBOARD_LOG_LEVEL: must be one of trace, debug, info, notice, warning, error, critical"),
        Case(arguments: ["--port", "70000"], status: 2, message: "switchboard: configuration error: --port: must be 0 to 65535"),
        Case(arguments: ["--log-level", "loud"], status: 2,
             message: "switchboard: configuration error: --log-level: must be one of trace, debug, info, notice, warning, error, critical"),
        Case(arguments: ["--port", "abc"], status: 2, message: "Error: The value 'abc' is invalid for '--port <port>'"),
        Case(arguments: ["--bogus"], status: 2, message: "Error: Unknown option '--bogus'"),
        Case(arguments: ["--listen", "999.1.1.1"], status: 1,
             message: "switchboard: cannot listen on 999.1.1.1:0: 999.1.1.1 is not an address or a name this machine resolves (dispatcher.listen)"),
        Case(arguments: ["--socket", "/nonexistent/folder/s.sock"], status: 1,
             message: "switchboard: cannot create the local socket /nonexistent/folder/s.sock: the folder /nonexistent/folder does not exist (dispatcher.unix-socket, --socket)"),
        Case(arguments: [], environment: ["SWITCHBOARD_DATASTORE_DSN": "/nonexistent/folder/db.sqlite"], status: 1,
             message: "switchboard: [EIO] Cannot open the SQLite datastore at /nonexistent/folder/db.sqlite: SQLite error 14: unable to open database file"),
    ]

    @Test(arguments: cases) func exitsWithItsStatusAndNamesTheCause(_ invocation: Case) async throws {
        let dir = TestDaemon.makeStateDir()
        let output = try await Binary.run(["serve", "--state-dir", dir, "--port", "0"] + invocation.arguments,
                                          environment: invocation.environment, timeout: .seconds(30))
        #expect(output.status == invocation.status, "\(output.stderr)")
        #expect(output.stderr.contains(invocation.message), "\(output.stderr)")
    }

    @Test func anUncreatableStateFolderNamesItAndTheSystemsReason() async throws {
        let output = try await Binary.run(["serve", "--state-dir", "/proc/self/stat/state", "--port", "0"], timeout: .seconds(30))
        #expect(output.status == 1, "\(output.stderr)")
        #expect(output.stderr.contains(
            "switchboard: cannot create the state folder /proc/self/stat/state: Not a directory (--state-dir, SWITCHBOARD_STATE_DIR)"), "\(output.stderr)")
    }
}
