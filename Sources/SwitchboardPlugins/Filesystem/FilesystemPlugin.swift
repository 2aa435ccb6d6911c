import SwitchboardCore

/// middlewared's file transfer methods: `filesystem.put` writes an upload to a file, `filesystem.get` streams a
/// file as a download. FULL_ADMIN only: they reach any path the daemon's user can.
public struct FilesystemPlugin: Plugin {
    public let name = "filesystem"
    public let dependencies = ["core"]

    public init() {}

    public func setUp(_ context: PluginContext) async throws {
        context.register(ServiceDescriptor(name: "filesystem", description: "Files on the daemon's machine, uploaded and downloaded."))
        try FilesystemMethods.register(in: context)
    }
}
