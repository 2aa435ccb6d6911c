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
    func setUp(_ context: PluginContext) async throws
    func tearDown() async
}

extension Plugin {
    public var dependencies: [String] { [] }
    public func tearDown() async {}
}
