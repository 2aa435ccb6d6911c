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
        await #expect(throws: PluginLoadError.self) {
            try await loader.load([StubPlugin("broken")])
        }
        do {
            try await loader.load([StubPlugin("broken")])
        } catch {
            #expect("\(error)".contains("plugin 'broken' failed to set up"))
        }
    }
}
