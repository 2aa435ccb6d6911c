import SwitchboardCore

/// FreeNAS 10's `management.enable_features`, `get_enabled_features` and `get_available_features`: protocol
/// features a connection turns on for itself.
///
/// `streaming_responses`: a query answer may come in fragments the client asks for one by one (FreeNAS 10's
/// `rpc/fragment` and `rpc/continue`); a client that turns it on must take a whole `response` too, which is what
/// it gets for every answer small enough to send at once. Calling `enable_features` also tells the envelope
/// dialect that this is a FreeNAS 10 client: its events then arrive as FreeNAS 10 sends them (`events/event`).
enum ManagementMethods {
    static let available = ["streaming_responses"]

    static func register(in context: PluginContext) throws {
        try context.register(MethodDescriptor(
            MethodName.enableFeatures, description: "Turns protocol features on for this connection (see get_available_features).",
            params: [Parameter("features", schema: ["type": "array", "items": ["type": "string"]])],
            returns: ["type": "null"], roles: [Role.authenticated]
        ) { ctx, args in
            let wanted = (args[0].arrayValue ?? []).compactMap(\.stringValue)
            if let unknown = wanted.first(where: { !available.contains($0) }) {
                throw CallError.validation("features", "Invalid feature \(unknown); available: \(available.joined(separator: ", "))")
            }
            ctx.session.options.features.formUnion(wanted)
            return .null
        })
        try context.register(MethodDescriptor(
            "management.get_enabled_features", description: "The features this connection turned on.",
            returns: ["type": "array", "items": ["type": "string"]], roles: [Role.authenticated], flags: .readonly
        ) { ctx, _ in
            JSON(strings: ctx.session.options.features.sorted())
        })
        try context.register(MethodDescriptor(
            "management.get_available_features", description: "The features a connection may turn on.",
            returns: ["type": "array", "items": ["type": "string"]], roles: [Role.authenticated], flags: .readonly
        ) { _, _ in
            JSON(strings: available)
        })
    }
}
