import SwitchboardCore

/// A plugin that registers one of every kind the plugin API offers, so that unloading it can be seen to
/// withdraw them all. `fail: true` in its section makes its `setUp` throw; `greeting` shows a reload read the
/// configuration again. Its job waits on `gates` ("kinds"), which the test opens in process.
struct KindsPlugin: Plugin {
    let name = "kinds"
    let dependencies = ["core"]
    let handled: HandledCount
    let gates: Gates

    var configurationSchema: JSON {
        ["type": "object", "properties": ["fail": ["type": "boolean"], "greeting": ["type": "string"]], "additionalProperties": false]
    }

    func setUp(_ context: PluginContext) async throws {
        if context.configuration["fail"]?.boolValue == true { throw CallError(Errno.EIO, "kinds cannot start: fail is set") }
        let greeting = context.configuration["greeting"]?.stringValue ?? "Hello"
        context.register(ServiceDescriptor(name: "kinds", description: "One of every kind."))
        try context.register(schema: "KindsName", ["type": "string", "minLength": 1, "maxLength": 10])
        try context.register(schema: "KindsGreeting", [
            "type": "object", "properties": ["name": ["$ref": "#/components/schemas/KindsName"]], "required": ["name"],
            "additionalProperties": false,
        ])
        try await context.datastore.prepare(TableDefinition("kinds_notes", columns: [.init("text", .text)]))
        try KindsMethods.register(in: context, greeting: greeting, gates: gates)
        try context.register(WorkerDescriptor("kinds.worker", description: "runs until stopped") { _ in
            try await Task.sleep(for: .seconds(3_600))
        })
        try context.register(EventTypeDescriptor("kinds.event", roles: [Role.readonlyAdmin]))
        try context.register(RoomDescriptor("kinds.room", roles: [Role.readonlyAdmin]))
        try context.register(SessionManagerDescriptor("kinds.manager") { _ in nil })
        try context.register(EventSourceDescriptor("kinds.source", roles: [Role.readonlyAdmin]) { _, emit in
            emit(.added, 1, ["n": 1])
            try await Task.sleep(for: .seconds(3_600))
        })
        let handled = self.handled
        context.onEvent("test.fanout") { _ in handled.add() }
        try context.register(HTTPRouteDescriptor(method: "GET", path: "/plugins/kinds/greeting", roles: [Role.readonlyAdmin]) { request in
            HTTPRouteResponse(status: 200, contentType: "text/plain",
                              body: Array("\(greeting), \(request.session.credentials?.username ?? "")".utf8))
        })
    }
}
