import SwitchboardCore

/// A method whose parameters use every shape the debug UI's call form is built for: a `oneOf` (a chooser), an
/// array, an enum and a `$ref` to a named definition. It answers its arguments, so the browser test can check
/// what the form sent.
struct FormsPlugin: Plugin {
    let name = "forms"
    func setUp(_ context: PluginContext) async throws {
        try context.register(schema: "FormsName", ["type": "string", "minLength": 1, "maxLength": 10])
        try context.register(MethodDescriptor(
            "forms.shape", description: "Echoes a shape, tags, a colour and a name.",
            params: [
                Parameter("shape", schema: ["oneOf": [
                    ["title": "circle", "type": "object", "properties": ["radius": ["type": "number"]], "required": ["radius"],
                     "additionalProperties": false],
                    ["title": "square", "type": "object", "properties": ["side": ["type": "integer"]], "required": ["side"],
                     "additionalProperties": false],
                ]]),
                Parameter("tags", schema: ["type": "array", "items": ["type": "string"]]),
                Parameter("colour", schema: ["enum": ["red", "green"]]),
                Parameter("who", schema: ["$ref": "#/components/schemas/FormsName"]),
            ],
            returns: ["type": "array"], roles: [Role.readonlyAdmin], flags: .readonly
        ) { _, args in .array(args) })
    }
}
