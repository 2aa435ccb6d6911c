/// A unit of functionality: loaded after its dependencies, registers what it offers, and is torn down.
///
/// ```swift
/// struct HelloPlugin: Plugin {
///     let name = "hello"
///     let dependencies = ["core"]
///     func setUp(_ context: PluginContext) async throws {
///         try context.register(MethodDescriptor("hello.greet", params: [Parameter("name", schema: ["type": "string"])],
///                                               returns: ["type": "string"], roles: [Role.readonlyAdmin]) { _, args in
///             .string("Hello, \(args[0].stringValue ?? "")")
///         })
///     }
/// }
/// ```
public protocol Plugin: Sendable {
    var name: String { get }
    var dependencies: [String] { get }
    /// The JSON Schema of the plugin's section of the configuration file (`plugins.<name>`), checked before any
    /// plugin is set up: a mistyped key stops the start with its path, as it does in the daemon's own sections.
    /// `enabled` is always allowed. The default admits no other key.
    var configurationSchema: JSON { get }
    /// Capabilities beyond registering and calling (`PluginContext.sessions()` and the like); empty by default.
    var needs: PluginNeeds { get }
    /// `builtin` for a compiled-in plugin; `external` for one in its own process (shown by `plugin.query`).
    var kind: String { get }
    /// What the plugin reports about itself beyond its load state, shown as `status` by `plugin.query`: an
    /// external plugin's process (pid, supervision state, restarts, last exit). `null` by default.
    var status: JSON { get }
    /// A plugin that runs as a supervised unit of its own (an external plugin's process) reports it here, and
    /// `worker.query` lists it beside the workers (kind `plugin`). Nil by default.
    var supervision: WorkerStatus? { get }
    /// Registers what the plugin offers, and nothing else: its methods' bodies live in their own files.
    func setUp(_ context: PluginContext) async throws
    func tearDown() async
}

extension Plugin {
    public var dependencies: [String] { [] }
    public var needs: PluginNeeds { [] }
    public var kind: String { "builtin" }
    public var status: JSON { .null }
    public var supervision: WorkerStatus? { nil }
    public var configurationSchema: JSON { ["type": "object", "additionalProperties": false] }
    public func tearDown() async {}
}
