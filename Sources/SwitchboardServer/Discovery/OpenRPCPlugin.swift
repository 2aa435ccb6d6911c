import SwitchboardCore
import SwitchboardWire

/// The `rpc` service: `rpc.discover`, OpenRPC's reserved method, answering the `OpenRPCDocument` of the live
/// registry. Built in beside the control plugin because the document speaks of the JSON-RPC dialect (its error
/// codes), which plugins, written against Core alone, cannot see.
struct OpenRPCPlugin: Plugin {
    let name = "openrpc"

    func setUp(_ context: PluginContext) async throws {
        context.register(ServiceDescriptor(name: "rpc", description: "The OpenRPC description of this API.", plugin: name))
        let registry = context.registry
        let version = context.daemon.version
        try context.register(MethodDescriptor(
            MethodName.rpcDiscover,
            description: "The OpenRPC 1.3 document of every method offered now: parameters and result as JSON Schema, errors, "
                + "roles and the job flag (x-roles, x-job), and the event types (x-events). Private methods are listed when "
                + "the session set private_methods.",
            returns: ["type": "object", "required": ["openrpc", "info", "methods"]],
            roles: [Role.authenticated], flags: .readonly
        ) { ctx, _ in
            OpenRPCDocument.make(registry, version: version, includePrivate: ctx.session.options.privateMethods)
        })
    }
}
