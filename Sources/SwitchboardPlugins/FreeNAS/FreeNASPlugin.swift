import SwitchboardCore

/// FreeNAS 10's dispatcher services, answered from Switchboard's own registry and jobs, so that a FreeNAS 10
/// client finds what it used: `discovery.*` (what exists), `task.*` (its tasks are Switchboard's job methods)
/// and `management.*` (the protocol features a client turns on).
public struct FreeNASPlugin: Plugin {
    public let name = "freenas"
    public let dependencies = ["core"]

    public init() {}

    public func setUp(_ context: PluginContext) async throws {
        context.register(ServiceDescriptor(name: "discovery", description: "FreeNAS 10's interface enumeration: services, methods, tasks, event types, schemas."))
        context.register(ServiceDescriptor(name: "task", description: "FreeNAS 10's task queue: job methods submitted, watched and aborted as tasks."))
        context.register(ServiceDescriptor(name: "management", description: "FreeNAS 10's protocol features, per connection."))
        try DiscoveryMethods.register(in: context)
        try TaskMethods.register(in: context)
        try ManagementMethods.register(in: context)
    }
}
