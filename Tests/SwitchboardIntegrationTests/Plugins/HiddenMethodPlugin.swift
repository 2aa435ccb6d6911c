import SwitchboardCore

/// A private method (`hidden.probe`), which introspection lists only to a session that asked for private methods.
struct HiddenMethodPlugin: Plugin {
    let name = "hidden"
    func setUp(_ context: PluginContext) async throws {
        try context.register(MethodDescriptor("hidden.probe", description: "Private. Not listed by default.",
                                              returns: ["type": "string"], flags: .private) { _, _ in "hidden" })
    }
}
