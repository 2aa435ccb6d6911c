import Foundation
import Testing
import SwitchboardCore
import SwitchboardPlugins
import SwitchboardServer

@Suite struct ConfigurationTests {
    func error(_ text: String) -> String? {
        var configuration = DaemonConfiguration(stateDir: "/tmp/x")
        do {
            try configuration.apply(try JSON.parse(text))
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func seedExampleIsAcceptedExceptItsDriver() throws {
        // Seed 000's example file, verbatim in shape; MongoDB is its datastore, which Switchboard does not speak.
        let seed = """
            {"datastore": {"driver": "mongodb", "dsn": "mongodb://localhost"},
             "dispatcher": {"pidfile": "/var/run/dispatcher.pid", "websocket-port": 5000, "frontend-port": 8180, "tls": false,
                            "logging": "syslog", "plugin-dirs": ["/usr/local/lib/dispatcher/plugins", "/opt/dispatcher-plugins"]},
             "etcd": {"pidfile": "/var/run/etcd.pid", "logging": "syslog", "plugin-dirs": ["/usr/local/lib/etcd/plugins"]},
             "cli": {"plugin-dirs": ["/usr/local/lib/freenascli/plugins"]}}
            """
        #expect(error(seed) == "datastore.driver: 'mongodb' is not available; supported: sqlite, postgresql")
        let fixed = seed.replacingOccurrences(of: "\"mongodb\", \"dsn\": \"mongodb://localhost\"", with: "\"sqlite\", \"dsn\": \"/tmp/x.db\"")
        var configuration = DaemonConfiguration(stateDir: "/tmp/x")
        try configuration.apply(try JSON.parse(fixed))
        #expect(configuration.websocketPort == 5000)
        #expect(configuration.pluginDirs == ["/usr/local/lib/dispatcher/plugins", "/opt/dispatcher-plugins"])
        #expect(configuration.resolvedDatabasePath == "/tmp/x.db")
        #expect(configuration.pidfile == "/var/run/dispatcher.pid")
    }

    @Test(arguments: [
        (#"{"bogus": {}}"#, "bogus: unknown section"),
        (#"{"dispatcher": {"websocket-prot": 5000}}"#, "dispatcher.websocket-prot: unknown key"),
        (#"{"dispatcher": {"websocket-port": "5000"}}"#, "dispatcher.websocket-port: must be an integer from 0 to 65535"),
        (#"{"dispatcher": {"websocket-port": 70000}}"#, "dispatcher.websocket-port: must be an integer"),
        (#"{"dispatcher": {"tls": "yes"}}"#, "dispatcher.tls: must be true or false"),
        (#"{"dispatcher": {"logging": "carrier-pigeon"}}"#, "dispatcher.logging: must be stderr, syslog or an absolute file path, not 'carrier-pigeon'"),
        (#"{"dispatcher": {"log-format": "xml"}}"#, "dispatcher.log-format: must be text or json, not 'xml'"),
        (#"{"dispatcher": {"syslog-facility": "local9"}}"#, "dispatcher.syslog-facility: must be one of kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, local0, local1, local2, local3, local4, local5, local6, local7, not 'local9'"),
        (#"{"dispatcher": {"plugin-dirs": "/opt"}}"#, "dispatcher.plugin-dirs: must be a list"),
        (#"{"dispatcher": {"plugin-dirs": [1]}}"#, "dispatcher.plugin-dirs.0: must be a non-empty string"),
        (#"{"dispatcher": {"max-running-calls": 0}}"#, "dispatcher.max-running-calls: must be an integer from 1"),
        (#"{"dispatcher": {"shutdown-call-grace-seconds": 601}}"#, "dispatcher.shutdown-call-grace-seconds: must be an integer from 0 to 600"),
        (#"{"dispatcher": {"shutdown-call-grace-seconds": -1}}"#, "dispatcher.shutdown-call-grace-seconds: must be an integer from 0 to 600"),
        (#"{"dispatcher": []}"#, "dispatcher: must be an object"),
        (#"{"plugins": {"user": {"enabled": "no"}}}"#, "plugins.user.enabled: must be true or false"),
        (#"{"plugins": {"user": 3}}"#, "plugins.user: must be an object"),
        (#"{"datastore": {"dsn": ""}}"#, "datastore.dsn: must be a non-empty string"),
        ("[]", "the configuration must be a JSON object"),
        (#"{"security": {"query-match-steps": 10}}"#, "security.query-match-steps: must be an integer from 1000 to 1000000000"),
        (#"{"dispatcher": {"node-name": "nas 1"}}"#, "dispatcher.node-name: 'nas 1' is not a node name: up to 63 letters"),
        (#"{"dispatcher": {"node-name": "-nas"}}"#, "dispatcher.node-name: '-nas' is not a node name"),
        (#"{"dispatcher": {"node-name": "n\u00e9"}}"#, "dispatcher.node-name: 'né' is not a node name"),
        (#"{"dispatcher": {"node-name": 7}}"#, "dispatcher.node-name: must be a non-empty string"),
        (#"{"cluster": {"heartbeat-seconds": 0}}"#, "cluster.heartbeat-seconds: must be an integer from 1 to 60"),
        (#"{"cluster": {"node-timeout-seconds": 3}}"#, "cluster.node-timeout-seconds: must be at least twice cluster.heartbeat-seconds (2)"),
        (#"{"cluster": {"heartbeat-seconds": 5, "node-timeout-seconds": 9}}"#, "cluster.node-timeout-seconds: must be at least twice"),
        (#"{"cluster": {"beat": 1}}"#, "cluster.beat: unknown key"),
        (#"{"dispatcher": {"envelope-events": "xml"}}"#, "dispatcher.envelope-events: must be sysadm or freenas"),
        (#"{"security": {"secret-key-file": ""}}"#, "security.secret-key-file: must be a non-empty string"),
    ])
    func badValuesNameTheirKey(text: String, expected: String) {
        let message = error(text)
        #expect(message?.hasPrefix(expected) == true, "got \(message ?? "no error")")
    }

    @Test func clusterTimingsReachTheDaemon() throws {
        var configuration = DaemonConfiguration(stateDir: "/tmp/x")
        #expect(configuration.clusterHeartbeat == .seconds(2) && configuration.clusterNodeTimeout == .seconds(15))
        try configuration.apply(try JSON.parse(#"{"cluster": {"heartbeat-seconds": 1, "node-timeout-seconds": 4}}"#))
        #expect(configuration.clusterHeartbeat == .seconds(1) && configuration.clusterNodeTimeout == .seconds(4))
    }

    @Test func theCallGraceReachesTheDaemon() throws {
        var configuration = DaemonConfiguration(stateDir: "/tmp/x")
        #expect(configuration.callGrace == .seconds(5))
        try configuration.apply(try JSON.parse(#"{"dispatcher": {"shutdown-call-grace-seconds": 0}}"#))
        #expect(configuration.callGrace == .zero)
    }

    /// `dispatcher.stop-grace` and `jobs.shutdown-grace-seconds` are one setting under two names.
    @Test func theStopGraceHasTwoNamesForOneValue() throws {
        var configuration = DaemonConfiguration(stateDir: "/tmp/x")
        #expect(configuration.jobs.shutdownGrace == .seconds(10))
        try configuration.apply(try JSON.parse(#"{"dispatcher": {"stop-grace": 42}}"#))
        #expect(configuration.jobs.shutdownGrace == .seconds(42))
        try configuration.apply(try JSON.parse(#"{"dispatcher": {"stop-grace": 7}, "jobs": {"shutdown-grace-seconds": 7}}"#))
        #expect(configuration.jobs.shutdownGrace == .seconds(7))
        #expect(error(#"{"dispatcher": {"stop-grace": 7}, "jobs": {"shutdown-grace-seconds": 8}}"#)
                == "dispatcher.stop-grace: is 7 but jobs.shutdown-grace-seconds is 8: they are one setting, give one of them")
        #expect(error(#"{"dispatcher": {"stop-grace": 3601}}"#) == "dispatcher.stop-grace: must be an integer from 0 to 3600")
    }

    @Test func queryMatchStepsReachTheDaemon() throws {
        var configuration = DaemonConfiguration(stateDir: "/tmp/x")
        #expect(configuration.queryMatchSteps == MatchBudget.defaultLimit)
        try configuration.apply(try JSON.parse(#"{"security": {"query-match-steps": 5000}}"#))
        #expect(configuration.queryMatchSteps == 5_000)
    }

    @Test func environmentOverridesTheFile() throws {
        var configuration = DaemonConfiguration(stateDir: "/tmp/x")
        try configuration.apply(try JSON.parse(#"{"dispatcher": {"websocket-port": 6000, "listen": "0.0.0.0"}}"#))
        try configuration.apply(environment: ["SWITCHBOARD_PORT": "7000", "SWITCHBOARD_STATE_DIR": "/tmp/y"])
        #expect(configuration.websocketPort == 7000)
        #expect(configuration.listen == "0.0.0.0")
        #expect(configuration.stateDir == "/tmp/y")
        #expect(throws: ConfigurationError.self) { try configuration.apply(environment: ["SWITCHBOARD_PORT": "many"]) }
    }

    /// The node's name: the host name unless the file or SWITCHBOARD_NODE_NAME says otherwise (the variable wins,
    /// so several daemons can share one file); 63 characters at most.
    @Test func nodeNameComesFromTheFileOrTheEnvironment() throws {
        var configuration = DaemonConfiguration(stateDir: "/tmp/x")
        #expect(configuration.resolvedNodeName == (DaemonConfiguration.validNodeName(Runtime.hostname) ? Runtime.hostname : "switchboard"))
        try configuration.apply(try JSON.parse(#"{"dispatcher": {"node-name": "nas-a.lab_1"}}"#))
        #expect(configuration.resolvedNodeName == "nas-a.lab_1")
        try configuration.apply(environment: ["SWITCHBOARD_NODE_NAME": "nas-b"])
        #expect(configuration.resolvedNodeName == "nas-b")
        let long = String(repeating: "n", count: 64)
        #expect(DaemonConfiguration.validNodeName(String(long.dropLast())))
        #expect(throws: ConfigurationError.self) { try configuration.apply(environment: ["SWITCHBOARD_NODE_NAME": long]) }
        #expect(configuration.resolvedNodeName == "nas-b")
    }

    @Test func binaryRefusesABadFileNamingTheKey() async throws {
        let dir = TestDaemon.makeStateDir()
        let file = dir + "/bad.conf"
        try #"{"dispatcher": {"websocket-port": -1}}"#.write(toFile: file, atomically: true, encoding: .utf8)
        let output = try await Binary.run(["serve", "--config", file, "--state-dir", dir])
        #expect(output.status == 2)
        #expect(output.stderr.contains("dispatcher.websocket-port"))
        try "{ not json".write(toFile: file, atomically: true, encoding: .utf8)
        let broken = try await Binary.run(["serve", "--config", file, "--state-dir", dir])
        #expect(broken.status == 2)
        #expect(broken.stderr.contains("not valid JSON"))
        let missing = try await Binary.run(["serve", "--config", dir + "/nope.conf", "--state-dir", dir])
        #expect(missing.status == 2)
    }

    @Test func pluginFailingSetUpStopsStartup() async throws {
        // A plugin whose setUp throws stops the start, naming the plugin and its reason.
        let setUp = await #expect(throws: PluginLoadError.self) {
            _ = try await TestDaemon.start(plugins: BuiltinPlugins.all + [TestPlugin(), FailingPlugin()])
        }
        #expect(setUp?.description == "plugin 'failing' failed to set up: [EIO] the disk is gone", "\(String(describing: setUp))")
        // A configuration its plugin's schema refuses stops it before any plugin loads.
        let refused = await #expect(throws: ConfigurationError.self) {
            _ = try await TestDaemon.start { $0.plugins = ["user": ["bcrypt_cost": 99]] }
        }
        #expect(refused.map { "\($0)" } == "plugins.user.bcrypt_cost: Input should be less than or equal to 31")
        // A disabled dependency leaves its dependents unloaded, with the reason, and the daemon serving.
        let daemon = try await TestDaemon.start { $0.plugins = ["user": ["enabled": false]] }
        let root = try await daemon.rootClient()
        let auth = try await root.call("plugin.query", [[["name", "=", "auth"]], ["get": true]])
        #expect(auth["state"] == "unloaded" && auth["last_error"] == "plugin 'auth' depends on 'user', which is not enabled")
        #expect(try await root.call("plugin.query", [[["name", "=", "user"]], ["get": true]])["state"] == "disabled")
        await root.close()
        await daemon.stop()
    }
}

/// A plugin that cannot start.
struct FailingPlugin: Plugin {
    let name = "failing"
    let dependencies = ["core"]
    func setUp(_ context: PluginContext) async throws {
        throw CallError(Errno.EIO, "the disk is gone")
    }
}
