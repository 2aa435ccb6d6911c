import SwitchboardCore

/// `core.*` beyond the protocol's own methods (which the daemon registers itself, so that every dialect works
/// without this plugin): introspection of services, methods, events, roles and schemas, jobs,
/// downloads, and events that clients emit.
public struct CorePlugin: Plugin {
    public let name = "core"

    public init() {}

    public func setUp(_ context: PluginContext) async throws {
        try IntrospectionMethods.register(in: context)
        try JobMethods.register(in: context)
        try TransferMethods.register(in: context)
        try JobLogDownloads.register(in: context)
        try EventMethods.register(in: context)
    }
}
