import Logging
import Synchronization
import SwitchboardTestSupport
import Testing
@testable import SwitchboardCore

struct StubPlugin: Plugin {
    let name: String
    let dependencies: [String]
    let log: SetUpLog?
    /// Takes any key: the tests pass colours and `fail`.
    var configurationSchema: JSON { ["type": "object"] }

    init(_ name: String, _ dependencies: [String] = [], log: SetUpLog? = nil) {
        self.name = name
        self.dependencies = dependencies
        self.log = log
    }

    func setUp(_ context: PluginContext) async throws {
        await log?.append(name, context.configuration)
        if name == "broken" || context.configuration["fail"]?.boolValue == true { throw CallError(Errno.EINVAL, "bad configuration") }
    }

    func tearDown() async {
        await log?.append("-" + name, .null)
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
        #expect(throws: PluginLoadError(description: "plugin 'a' depends on 'ghost', which does not exist")) {
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
        let loader = PluginLoader(runtime: runtime(), plugins: [StubPlugin("a", log: log), StubPlugin("b", ["a"], log: log), StubPlugin("off", log: log)])
        try await loader.load(configuration: ["a": ["color": "blue"], "off": ["enabled": false]])
        #expect(await log.names == ["a", "b"])
        #expect(await log.configurations["a"] == ["color": "blue"])
        #expect(await log.configurations["b"] == [:])
        #expect(await loader.loadedNames == ["a", "b"])
    }

    static func states(_ loader: PluginLoader) async -> [String: String] {
        var states: [String: String] = [:]
        for row in await loader.query {
            states[row["name"]?.stringValue ?? ""] = (row["state"]?.stringValue ?? "") + (row["last_error"]?.stringValue.map { ": " + $0 } ?? "")
        }
        return states
    }

    /// A disabled dependency, a missing one or a cycle leaves those plugins (and theirs) unloaded with the reason;
    /// every other plugin loads.
    @Test func dependencyProblemsLeaveTheOthersLoaded() async throws {
        let plugins: [any Plugin] = [StubPlugin("a"), StubPlugin("b", ["a"]), StubPlugin("c", ["b"]), StubPlugin("free"),
                                     StubPlugin("lost", ["ghost"]), StubPlugin("x", ["y"]), StubPlugin("y", ["x"])]
        let loader = PluginLoader(runtime: runtime(), plugins: plugins)
        try await loader.load(configuration: ["a": ["enabled": false]])
        #expect(await loader.loadedNames == ["free"])
        let states = await Self.states(loader)
        #expect(states["a"] == "disabled")
        #expect(states["b"] == "unloaded: plugin 'b' depends on 'a', which is not enabled")
        #expect(states["c"] == "unloaded: plugin 'c' depends on 'b', which cannot load: plugin 'b' depends on 'a', which is not enabled")
        #expect(states["lost"] == "unloaded: plugin 'lost' depends on 'ghost', which does not exist")
        #expect(states["x"] == "unloaded: plugin dependency cycle: x -> y -> x")
        #expect(states["y"] == "unloaded: plugin dependency cycle: x -> y -> x")
    }

    @Test func setUpFailureAtStartNamesThePlugin() async {
        let loader = PluginLoader(runtime: runtime(), plugins: [StubPlugin("broken")])
        await #expect(throws: PluginLoadError(description: "plugin 'broken' failed to set up: [EINVAL] bad configuration")) {
            try await loader.load()
        }
    }

    /// Reloading one plugin tears it and its dependents down in reverse order and sets them up again in order,
    /// with the configuration read again; plugins that do not depend on it are left alone.
    @Test func reloadTakesDependentsInOrder() async throws {
        let log = SetUpLog()
        let section = Mutex<JSON>(["b": ["color": "red"]])
        let plugins: [any Plugin] = [StubPlugin("a", log: log), StubPlugin("b", ["a"], log: log), StubPlugin("c", ["b"], log: log),
                                     StubPlugin("d", ["a"], log: log), StubPlugin("e", log: log)]
        let loader = PluginLoader(runtime: runtime(), plugins: plugins, configurationSource: { section.withLock { $0 } })
        try await loader.load(configuration: section.withLock { $0 })
        #expect(await log.names == ["a", "b", "c", "d", "e"])
        section.withLock { $0 = ["b": ["color": "green"]] }
        let rows = try await loader.reload(["b"])
        #expect(rows.map { $0["name"]?.stringValue } == ["b", "c"])
        #expect(await log.names == ["a", "b", "c", "d", "e", "-c", "-b", "b", "c"])
        #expect(await log.configurations["b"] == ["color": "green"])
        // All of them: every plugin down in reverse, up in order.
        _ = try await loader.reload(nil)
        #expect(await Array(log.names.dropFirst(9)) == ["-e", "-d", "-c", "-b", "-a", "a", "b", "c", "d", "e"])
    }

    /// On a reload a `setUp` that throws leaves that plugin failed with its error (and its dependents
    /// unloaded); the others keep running, and the next good configuration brings it back.
    @Test func aFailedReloadLeavesTheRestRunning() async throws {
        let section = Mutex<JSON>([:])
        let plugins: [any Plugin] = [StubPlugin("a"), StubPlugin("b", ["a"]), StubPlugin("other")]
        let loader = PluginLoader(runtime: runtime(), plugins: plugins, configurationSource: { section.withLock { $0 } })
        try await loader.load()
        section.withLock { $0 = ["a": ["fail": true]] }
        let error = await #expect(throws: CallError.self) { try await loader.reload(["a"]) }
        #expect(error?.errno == Errno.EFAULT && error?.reason == "plugin a failed to set up: [EINVAL] bad configuration")
        #expect(await Self.states(loader) == ["a": "failed: [EINVAL] bad configuration", "b": "unloaded: plugin 'b' depends on 'a', which is failed",
                                             "other": "loaded"])
        section.withLock { $0 = [:] }
        _ = try await loader.reload(["a"])
        #expect(await loader.loadedNames == ["a", "b", "other"])
    }

    /// A configuration that the plugins' schemas refuse stops the reload before anything is torn down.
    @Test func aRefusedConfigurationReloadsNothing() async throws {
        let log = SetUpLog()
        let section = Mutex<JSON>([:])
        let loader = PluginLoader(runtime: runtime(), plugins: [StubPlugin("a", log: log)], configurationSource: { section.withLock { $0 } })
        try await loader.load()
        section.withLock { $0 = ["a": ["colour": "red"], "nobody": [:]] }
        let error = await #expect(throws: CallError.self) { try await loader.reload(nil) }
        #expect(error?.errno == Errno.EINVAL && error?.reason.hasPrefix("the configuration is refused: plugins.") == true)
        #expect(await log.names == ["a"])
        #expect(await loader.loadedNames == ["a"])
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
        let loader = PluginLoader(runtime: runtime(), plugins: [Declaring(parameter: parameter, returns: returns)])
        let loadError = await #expect(throws: PluginLoadError.self) { try await loader.load() }
        #expect(loadError?.description.hasPrefix("plugin 'declaring' failed to set up: [EINVAL] method x.m declares an invalid schema: ") == true,
                "\(String(describing: loadError))")
    }
}
