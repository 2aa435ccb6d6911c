import Foundation
import SwitchboardClient
import SwitchboardCore
import SwitchboardPlugins
import SwitchboardServer
import Testing

/// A daemon with a plugin folder of its own holding the named example and fixture plugins, a quick restart
/// policy, and a root client.
struct ExternalPluginHarness {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let examples = repository.appendingPathComponent("examples/plugins")
    static let fixtures = repository.appendingPathComponent("Tests/Fixtures/plugins")
    static let pythonHost = repository.appendingPathComponent("sdk/python/switchboard_plugin.py").path

    let daemon: TestDaemon
    let root: RPCClient
    let folder: String

    /// - Parameter files: names in examples/plugins or Tests/Fixtures/plugins, copied into the plugin folder.
    static func start(_ files: [String], plugins: [any Plugin] = BuiltinPlugins.all + [TestPlugin()], log: LogCapture? = nil,
                      configure: @escaping (inout DaemonConfiguration) -> Void = { _ in }) async throws -> ExternalPluginHarness {
        let folder = NSTemporaryDirectory() + "sb-plugins-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for file in files {
            let source = [examples, fixtures].map { $0.appendingPathComponent(file).path }
                .first { FileManager.default.fileExists(atPath: $0) }
            let path = try #require(source, "no example or fixture plugin named \(file)")
            try FileManager.default.copyItem(atPath: path, toPath: folder + "/" + file)
        }
        let daemon = try await TestDaemon.start(plugins: plugins, logHandler: log) { configuration in
            configuration.pluginDirs = [folder]
            configuration.externalPlugins.pythonHost = pythonHost
            configuration.externalPlugins.handshakeTimeout = .seconds(10)
            configuration.externalPlugins.restart = RestartPolicy(initialDelay: .milliseconds(20), maxDelay: .seconds(2), jitter: 0.1,
                                                                  stablePeriod: .seconds(60), intensity: 3, window: .seconds(60))
            configure(&configuration)
        }
        return ExternalPluginHarness(daemon: daemon, root: try await daemon.rootClient(), folder: folder)
    }

    /// One JSON-RPC WebSocket client over TCP, as the dialect sweep drives it.
    func jsonRPCDriver() async throws -> FrameDriver {
        FrameDriver.jsonRPC(try await WebSocketConnection.connect(
            to: ConnectionTarget(.tcp(host: "127.0.0.1", port: daemon.port), path: "/api/current")))
    }

    func row(_ plugin: String) async throws -> JSON {
        try await root.call("plugin.query", [[["name", "=", .string(plugin)]], ["get": true]])
    }

    /// Waits until the plugin's process is in `state` (running, restarting, quarantined, stopped).
    func waitFor(_ plugin: String, _ state: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        try await eventually("plugin \(plugin) is \(state)", sourceLocation: sourceLocation) {
            try await row(plugin)["status"]?["state"] == .string(state)
        }
    }

    func stop() async {
        await root.close()
        await daemon.stop()
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// The errno and reason of a failed call, or nil when it succeeded.
    static func failure(_ call: () async throws -> JSON) async -> (errno: Int64, reason: String, data: JSON)? {
        do {
            _ = try await call()
            return nil
        } catch ClientError.call(_, _, let data) {
            return (data["error"]?.intValue ?? 0, data["reason"]?.stringValue ?? "", data)
        } catch {
            return (-1, "\(error)", .null)
        }
    }

    /// Whether a process with this pid still exists.
    static func alive(_ pid: Int64) -> Bool {
        kill(pid_t(pid), 0) == 0
    }
}
