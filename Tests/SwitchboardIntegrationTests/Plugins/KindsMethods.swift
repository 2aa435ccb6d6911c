import SwitchboardCore

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
