import Logging
import Testing
@testable import SwitchboardCore

struct StubPlugin: Plugin {
    let name: String
    let dependencies: [String]
    let log: SetUpLog?

    init(_ name: String, _ dependencies: [String] = [], log: SetUpLog? = nil) {
        self.name = name
        self.dependencies = dependencies
        self.log = log
    }

    func setUp(_ context: PluginContext) async throws {
        await log?.append(name, context.configuration)
        if name == "broken" { throw CallError(Errno.EINVAL, "bad configuration") }
    }
}

actor SetUpLog {
    var names: [String] = []
    var configurations: [String: JSON] = [:]
    func append(_ name: String, _ configuration: JSON) {
        names.append(name)
        configurations[name] = configuration
    }
}

final class NullDatastore: Datastore {
    func prepare(_ table: TableDefinition) async throws {}
    func query(_ table: TableDefinition, filters: [QueryFilter], options: QueryOptions) async throws -> JSON { [] }
    func get(_ table: TableDefinition, id: Int64) async throws -> JSONObject? { nil }
    func insert(_ table: TableDefinition, _ row: JSONObject) async throws -> Int64 { 1 }
    func update(_ table: TableDefinition, id: Int64, _ changes: JSONObject) async throws -> Bool { false }
    func delete(_ table: TableDefinition, id: Int64) async throws -> Bool { false }
    func commit(_ table: TableDefinition, upserts: [JSONObject], rows: [[JSON]], deletes: [Int64]) async throws {}
    func close() async throws {}
}

@Suite struct PluginLoaderTests {
    func names(_ plugins: [any Plugin]) throws -> [String] {
        try PluginLoader.order(plugins).map(\.name)
    }

    @Test func dependenciesLoadFirst() throws {
        let order = try names([StubPlugin("c", ["b"]), StubPlugin("a"), StubPlugin("b", ["a"]), StubPlugin("d", ["a", "c"])])
        #expect(order == ["a", "b", "c", "d"])
    }

    @Test func cycleNamesThePlugins() {
        #expect(throws: PluginLoadError(description: "plugin dependency cycle: a -> b -> c -> a")) {
            try names([StubPlugin("a", ["b"]), StubPlugin("b", ["c"]), StubPlugin("c", ["a"])])
        }
        #expect(throws: PluginLoadError(description: "plugin dependency cycle: self -> self")) {
            try names([StubPlugin("self", ["self"])])
        }
    }

    @Test func missingDependencyNamesBoth() {
        #expect(throws: PluginLoadError(description: "plugin 'a' depends on 'ghost', which is missing or not enabled")) {
            try names([StubPlugin("a", ["ghost"])])
        }
    }

    @Test func duplicateName() {
        #expect(throws: PluginLoadError.self) { try names([StubPlugin("a"), StubPlugin("a")]) }
    }

    func runtime() -> Runtime {
        Runtime(datastore: NullDatastore(), stateDirectory: "/tmp", logger: Logger(label: "test"))
    }

    @Test func onlyEnabledPluginsLoadAndEachGetsItsSection() async throws {
        let log = SetUpLog()
        let loader = PluginLoader(runtime: runtime())
        try await loader.load(
            [StubPlugin("a", log: log), StubPlugin("b", ["a"], log: log), StubPlugin("off", log: log)],
            configuration: ["a": ["color": "blue"], "off": ["enabled": false]])
        #expect(await log.names == ["a", "b"])
        #expect(await log.configurations["a"] == ["color": "blue"])
        #expect(await log.configurations["b"] == [:])
        #expect(await loader.loadedNames == ["a", "b"])
    }

    @Test func disablingADependencyFailsItsDependents() async {
        let loader = PluginLoader(runtime: runtime())
        await #expect(throws: PluginLoadError(description: "plugin 'b' depends on 'a', which is missing or not enabled")) {
            try await loader.load([StubPlugin("a"), StubPlugin("b", ["a"])], configuration: ["a": ["enabled": false]])
        }
    }

    @Test func setUpFailureNamesThePlugin() async {
        let loader = PluginLoader(runtime: runtime())
        await #expect(throws: PluginLoadError(description: "plugin 'broken' failed to set up: [EINVAL] bad configuration")) {
            try await loader.load([StubPlugin("broken")])
        }
    }

    /// A schema a plugin declares is checked when it registers: a typo or a pattern the engine refuses stops the
    /// plugin's load with the method, the attribute path and the reason, instead of failing every call later.
    static let invalidSchemas: [(Parameter, JSON, String)] = [
        (Parameter("size", schema: ["type": "integr"]), true, "x.m.params.size.type: Input does not match any of the allowed schemas"),
        (Parameter("size", schema: ["type": "integer", "minimum": "5"]), true, "x.m.params.size.minimum: Input should be a valid number"),
        (Parameter("name", schema: ["type": "string", "pattern": "(?<=a)b"]), true, "x.m.params.name.pattern: lookahead and lookbehind cannot be matched in linear time and are not supported: (?<=a)b"),
        (Parameter("map", schema: ["type": "object", "patternProperties": ["(a)\\1": true]]), true, "x.m.params.map.patternProperties: backreference"),
        (Parameter("ok", schema: ["type": "string"]), ["required": "yes"], "x.m.returns.required: Input should be a valid list"),
    ]

    @Test(arguments: invalidSchemas)
    func anInvalidSchemaStopsThePluginThatDeclaresIt(parameter: Parameter, returns: JSON, expected: String) async throws {
        let error = #expect(throws: CallError.self) {
            _ = try MethodDescriptor("x.m", params: [parameter], returns: returns) { _, _ in true }
        }
        #expect(error?.errno == Errno.EINVAL)
        #expect(error?.reason.hasPrefix("method x.m declares an invalid schema: ") == true, "\(String(describing: error))")
        #expect(error?.reason.contains(expected) == true, "\(String(describing: error))")
        // Through a plugin: the load fails and names it.
        struct Declaring: Plugin {
            let name = "declaring"
            let parameter: Parameter
            let returns: JSON
            func setUp(_ context: PluginContext) async throws {
                try context.register(MethodDescriptor("x.m", params: [parameter], returns: returns) { _, _ in true })
            }
        }
        let loader = PluginLoader(runtime: runtime())
        let loadError = await #expect(throws: PluginLoadError.self) { try await loader.load([Declaring(parameter: parameter, returns: returns)]) }
        #expect(loadError?.description.hasPrefix("plugin 'declaring' failed to set up: [EINVAL] method x.m declares an invalid schema: ") == true,
                "\(String(describing: loadError))")
    }
}
