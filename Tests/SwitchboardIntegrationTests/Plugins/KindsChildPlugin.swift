import SwitchboardCore

/// A plugin that depends on the kinds plugin, so a reload of that one takes this one with it.
struct KindsChildPlugin: Plugin {
    let name = "kinds_child"
    let dependencies = ["kinds"]

    func setUp(_ context: PluginContext) async throws {
        try context.register(MethodDescriptor("kinds_child.ping", returns: ["type": "string"], roles: [Role.readonlyAdmin]) { _, _ in "child" })
    }
}
