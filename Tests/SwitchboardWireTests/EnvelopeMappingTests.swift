import Logging
import SwitchboardTestSupport
import Testing
@testable import SwitchboardCore
@testable import SwitchboardWire

/// The envelope's request-to-method mapping is one: the size check asks the mapping that `perform` calls by.
@Suite struct EnvelopeMappingTests {
    @Test func theSizeCheckAndTheCallNameTheSameMethod() throws {
        let runtime = Runtime(datastore: NullDatastore(), stateDirectory: "/tmp", logger: Logger(label: "test"))
        for name in ["dispatcher.list", "system.info"] {
            try runtime.registry.register(MethodDescriptor(name) { _, _ in true })
        }
        let requests = EnvelopeRequests(runtime: runtime)
        // sysadm's `rpc/dispatcher {"action": "list"}` calls dispatcher.list: `rpc.dispatcher`, which the size
        // check used to ask about, is no method at all.
        #expect(requests.method(namespace: "rpc", name: "dispatcher", args: ["action": "list"]) == "dispatcher.list")
        #expect(try requests.resolve(namespace: "rpc", name: "dispatcher", args: ["action": "list"]).0 == "dispatcher.list")
        #expect(requests.method(namespace: "system", name: "info", args: [:]) == "system.info")
        #expect(requests.method(namespace: "rpc", name: "call", args: ["method": "system.info"]) == "system.info")
        #expect(requests.method(namespace: "rpc", name: "auth", args: [:]) == MethodName.login)
        #expect(requests.method(namespace: "events", name: "subscribe", args: "x") == MethodName.subscribe)
        #expect(requests.method(namespace: "rpc", name: "nothing", args: [:]) == nil)
    }
}
