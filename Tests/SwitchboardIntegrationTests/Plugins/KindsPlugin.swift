import SwitchboardCore
import Synchronization

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
        try context.register(EventTypeDescriptor("kinds.event", roles: [Role.readonlyAdmin]))
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

/// The kinds plugin's methods.
enum KindsMethods {
    static func register(in context: PluginContext, greeting: String, gates: Gates) throws {
        try context.register(MethodDescriptor(
            "kinds.greet", params: [Parameter("who", schema: ["$ref": "#/components/schemas/KindsGreeting"])],
            returns: ["type": "string"], roles: [Role.readonlyAdmin], flags: .readonly
        ) { _, args in .string("\(greeting), \(args[0]["name"]?.stringValue ?? "")") })
        try context.register(MethodDescriptor(
            "kinds.emit", params: [Parameter("n", schema: ["type": "integer"])], returns: ["type": "boolean"], roles: [Role.readonlyAdmin]
        ) { _, args in
            context.emit(Event(name: "kinds.event", kind: .added, id: args[0], fields: ["n": args[0]]))
            return true
        })
        try context.register(MethodDescriptor.job(
            "kinds.job", returns: ["type": "boolean"], roles: [Role.readonlyAdmin], options: JobOptions(abortable: true)
        ) { _, _ in
            try await gates.wait("kinds")
            return true
        })
        try context.register(MethodDescriptor.job(
            "kinds.steady", returns: ["type": "boolean"], roles: [Role.readonlyAdmin], options: JobOptions(abortable: false)
        ) { _, _ in
            try await gates.wait("steady")
            return true
        })
    }
}

/// A plugin that depends on the kinds plugin, so a reload of that one takes this one with it.
struct KindsChildPlugin: Plugin {
    let name = "kinds_child"
    let dependencies = ["kinds"]

    func setUp(_ context: PluginContext) async throws {
        try context.register(MethodDescriptor("kinds_child.ping", returns: ["type": "string"], roles: [Role.readonlyAdmin]) { _, _ in "child" })
    }
}

/// How often the kinds plugin's event handler ran.
final class HandledCount: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
