import Foundation
import SwitchboardClient
import SwitchboardCore
import SwitchboardPlugins
import SwitchboardServer
import Testing

/// Compiled-in and external plugins in one dependency order; dependencies that cannot be met leave the rest
/// loaded; reloading and stopping external plugins.
@Suite struct ExternalOrderTests {
    /// A compiled-in plugin that depends on the external `uptime` and calls it while setting up: it can only
    /// load after `uptime` is running.
    struct UptimeDependent: Plugin {
        let name = "uptime_dependent"
        let dependencies = ["uptime"]

        func setUp(_ context: PluginContext) async throws {
            let echoed = try await context.call("uptime.echo", ["from setUp"])
            try context.register(MethodDescriptor("uptime_dependent.echoed", roles: [Role.readonlyAdmin], flags: .readonly) { _, _ in echoed })
        }
    }

    @Test func compiledInAndExternalPluginsShareOneOrder() async throws {
        let plugins: [any Plugin] = BuiltinPlugins.all + [TestPlugin(), UptimeDependent()]
        let h = try await ExternalPluginHarness.start(["uptime.pl", "missing_dep", "cycle_a", "cycle_b"], plugins: plugins)
        #expect(try await h.root.call("uptime_dependent.echoed") == "from setUp")
        let order = try await h.root.call("plugin.query", [[["state", "=", "loaded"]], ["select": ["name"]]]).arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        let system = try #require(order.firstIndex(of: "system"))
        let uptime = try #require(order.firstIndex(of: "uptime"))
        let dependent = try #require(order.firstIndex(of: "uptime_dependent"))
        #expect(system < uptime && uptime < dependent, "\(order)")
        #expect(try await h.row("uptime")["dependents"] == ["uptime_dependent"])
        // Dependencies that cannot be met name the plugins and leave them unloaded, with no process waiting.
        let missing = try await h.row("missing_dep")
        #expect(missing["state"] == "unloaded")
        #expect(missing["last_error"] == "plugin 'missing_dep' depends on 'no_such_plugin', which does not exist")
        let cycle = try await h.row("cycle_a")
        #expect(cycle["state"] == "unloaded" && cycle["last_error"]?.stringValue?.contains("plugin dependency cycle: cycle_") == true, "\(cycle)")
        for name in ["missing_dep", "cycle_a", "cycle_b"] {
            try await eventually("\(name) has no process") { try await h.row(name)["status"]?["pid"] == .null }
        }
        await h.stop()
    }

    @Test func aPluginFolderThatCannotBeReadStopsTheStartNamingIt() async throws {
        do {
            let daemon = try await TestDaemon.start { $0.pluginDirs = ["/nonexistent/switchboard-plugins"] }
            await daemon.stop()
            Issue.record("the daemon started with a plugin folder that does not exist")
        } catch let error as ConfigurationError {
            #expect(error.path == "dispatcher.plugin-dirs" && error.reason.hasPrefix("cannot read the folder /nonexistent/switchboard-plugins"), "\(error)")
        }
    }

    @Test func aDisabledExternalPluginHasNoProcessAndComesBackWhenEnabled() async throws {
        let settings = PluginSettings()
        let folder = NSTemporaryDirectory() + "sb-plugins-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: ExternalPluginHarness.examples.appendingPathComponent("uptime.pl").path, toPath: folder + "/uptime.pl")
        let daemon = try await TestDaemon.start(reloadSettings: settings) { configuration in
            configuration.pluginDirs = [folder]
            configuration.plugins = ["user": ["bcrypt_cost": 4], "uptime": ["enabled": false]]
        }
        let root = try await daemon.rootClient()
        let row = try await root.call("plugin.query", [[["name", "=", "uptime"]], ["get": true]])
        #expect(row["state"] == "disabled" && row["status"]?["pid"] == .null, "\(row)")
        let absent = await ExternalPluginHarness.failure { try await root.call("uptime.seconds") }
        #expect(absent?.errno == Int64(Errno.ENOMETHOD))
        settings.section = ["user": ["bcrypt_cost": 4], "uptime": ["enabled": true]]
        _ = try await root.call("plugin.reload", ["uptime"])
        #expect(try await root.call("uptime.echo", ["on"]) == "on")
        await root.close()
        await daemon.stop()
        try? FileManager.default.removeItem(atPath: folder)
    }

    @Test func reloadingAnExternalPluginKeepsClientsConnected() async throws {
        let plugins: [any Plugin] = BuiltinPlugins.all + [TestPlugin(), UptimeDependent()]
        let h = try await ExternalPluginHarness.start(["ExamplePlugin.py", "uptime.pl"], plugins: plugins)
        let before = try #require(try await h.row("uptime")["status"]?["pid"]?.intValue)
        let client = try await h.daemon.client(as: "reader", roles: ["READONLY_ADMIN"])
        let reloaded = try await h.root.call("plugin.reload", ["uptime"])
        // The plugin and the compiled-in plugin that depends on it, in order.
        #expect(reloaded.arrayValue?.compactMap { $0["name"]?.stringValue } == ["uptime", "uptime_dependent"])
        let after = try #require(try await h.row("uptime")["status"]?["pid"]?.intValue)
        #expect(after != before && !ExternalPluginHarness.alive(before))
        #expect(try await client.call("uptime.echo", [7]) == 7)
        #expect(try await client.call("example.hello", ["still here"]) == "Hello, still here")
        // reload_all takes the Python plugin along too; the client's connection stays open through it.
        let pythonBefore = try #require(try await h.row("ExamplePlugin")["status"]?["pid"]?.intValue)
        _ = try await h.root.call("plugin.reload_all")
        #expect(try await h.row("ExamplePlugin")["status"]?["pid"]?.intValue != pythonBefore)
        #expect(try await client.call("example.add", [1, 1]) == ["sum": 2])
        await client.close()
        await h.stop()
    }

    @Test func aPluginThatIgnoresSIGTERMIsKilledAfterTheGrace() async throws {
        let h = try await ExternalPluginHarness.start(["stubborn", "uptime.pl"]) { configuration in
            configuration.externalPlugins.stopGrace = .milliseconds(300)
        }
        let first = try #require(try await h.root.call("stubborn.pid").intValue)
        _ = try await h.root.call("plugin.reload", ["stubborn"])
        #expect(!ExternalPluginHarness.alive(first))
        let second = try #require(try await h.root.call("stubborn.pid").intValue)
        #expect(second != first)
        let uptime = try #require(try await h.row("uptime")["status"]?["pid"]?.intValue)
        // Stopping the daemon stops every plugin process.
        await h.stop()
        #expect(!ExternalPluginHarness.alive(second) && !ExternalPluginHarness.alive(uptime))
    }
}
