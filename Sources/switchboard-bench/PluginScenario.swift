import Foundation
import SwitchboardClient
import SwitchboardCore

extension Scenarios {
    /// The Python plugin the scenario calls: `bench_plugin.ping` answers "pong", as `core.ping` does in the daemon.
    static let benchPlugin = """
        from task import Provider
        from dispatcher.rpc import roles, readonly


        class Bench(Provider):
            @roles('READONLY_ADMIN')
            @readonly
            def ping(self):
                return 'pong'


        def _init(dispatcher):
            dispatcher.register_provider('bench_plugin', Bench)

        """

    /// The Python host: in the current folder's `sdk/python`, or in a folder above the bench's executable.
    static func pythonHost() -> String? {
        let relative = "sdk/python/switchboard_plugin.py"
        var folders = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            folders.append(folder)
            folder = folder.deletingLastPathComponent()
        }
        return folders.map { $0.appendingPathComponent(relative).path }.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Calls to a trivial method of an external plugin (the Python host) against the same trivial method
    /// compiled in (`core.ping`), in one run, at `connections` x `inFlight` and at 1x1. The daemon's CPU per
    /// forwarded call, less its CPU per compiled-in call, is what forwarding costs the daemon; the plugin's own
    /// CPU per call is measured apart.
    static func plugin(connections: Int, inFlight: Int, duration: Duration) async throws -> [Figure] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-bench-plugins-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try benchPlugin.write(toFile: folder + "/bench_plugin.py", atomically: true, encoding: .utf8)
        // The echo plugin: this executable, so the daemon's forwarding cost is measured with a peer that keeps up.
        let echo = folder + "/bench_echo"
        try "#!/bin/sh\nexec '\(URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path)' echo-plugin\n"
            .write(toFile: echo, atomically: true, encoding: .utf8)
        chmod(echo, 0o755)
        guard let host = pythonHost() else {
            throw ClientError.protocolViolation("sdk/python/switchboard_plugin.py not found: run the bench from the repository")
        }
        let configuration = #"{"dispatcher": {"max-queued-calls": 1000, "max-running-calls": 64, "plugin-dirs": ["\#(folder)"], "python-host": "\#(host)"}, "security": {"max-connections-per-address": 100000, "max-connections": 100000, "unauthenticated-calls": 1000000}}"#
        let daemon = try DaemonProcess(configuration: configuration)
        defer { daemon.stop() }
        try daemon.waitReady()
        try await daemon.prepareAdmin()
        let root = try await RPCClient.connect(to: ConnectionTarget(.unix(path: daemon.socketPath)))
        var pids: [String: Int32] = [:]
        for name in ["bench_plugin", "bench_echo"] {
            let row = try await root.call("plugin.query", [[["name", "=", .string(name)]], ["get": true]])
            guard let pid = row["status"]?["pid"]?.intValue.map({ Int32($0) }) else {
                throw ClientError.protocolViolation("the plugin \(name) is not running: \(row)")
            }
            pids[name] = pid
        }
        await root.close()
        var figures: [Figure] = []
        for (c, k) in [(connections, inFlight), (1, 1)] {
            let compiled = try await load(port: daemon.port, token: daemon.token, pid: daemon.pid, connections: c, inFlight: k,
                                          duration: duration, method: "core.ping", params: "[]")
            figures += compiled.figures("plugin compiled-in core.ping \(c)x\(k)")
            for (name, method, label) in [("bench_echo", "bench_echo.ping", "echo (Swift)"), ("bench_plugin", "bench_plugin.ping", "Python host")] {
                let pid = pids[name] ?? 0
                let pluginBefore = ProcessStats.cpuSeconds(pid)
                let external = try await load(port: daemon.port, token: daemon.token, pid: daemon.pid, connections: c, inFlight: k,
                                              duration: duration, method: method, params: "[]")
                let pluginCPU = ProcessStats.cpuSeconds(pid) - pluginBefore
                figures += external.figures("plugin \(label) \(method) \(c)x\(k)")
                figures.append(Figure(name: "plugin \(label) \(c)x\(k) daemon CPU added per forwarded call",
                                      value: external.serverCPUPerCall - compiled.serverCPUPerCall, unit: "us"))
                figures.append(Figure(name: "plugin \(label) \(c)x\(k) plugin CPU per call",
                                      value: external.completed > 0 ? pluginCPU / Double(external.completed) * 1e6 : 0, unit: "us"))
                figures.append(Figure(name: "plugin \(label) \(c)x\(k) external/compiled-in rate ratio",
                                      value: external.rate / max(compiled.rate, 1), unit: "x"))
            }
        }
        return figures
    }
}
