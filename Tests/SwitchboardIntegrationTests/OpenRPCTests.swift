import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore
import SwitchboardPlugins
import SwitchboardServer

/// Issue 21, item 2: the OpenRPC document says what `core.get_methods` says, in OpenRPC's shapes, and its error
/// codes are the ones the dialect sends. (The meta-schema validation is ThirdPartyClientTests.openRPCDocumentValidates;
/// the document following plugins as they load and unload is in PluginRuntimeTests.)
@Suite(.serialized) struct OpenRPCTests {
    @Test func theDocumentDescribesEveryMethodAsIntrospectionDoes() async throws {
        let daemon = try await TestDaemon.start(plugins: BuiltinPlugins.all + [TestPlugin(), HiddenMethodPlugin()])
        let root = try await daemon.rootClient()
        let document = try await root.call("rpc.discover")
        #expect(document["openrpc"] == "1.3.2")
        #expect(document["info"]?["version"] == .string(Runtime.version))
        let introspected = try #require(try await root.call("core.get_methods").objectValue)
        let methods = try #require(document["methods"]?.arrayValue)
        let names = methods.compactMap { $0["name"]?.stringValue }
        #expect(names == introspected.keys.sorted(), "the same methods, sorted by name")
        #expect(!names.contains("hidden.probe") && names.contains(MethodName.rpcDiscover))
        for method in methods {
            let name = method["name"]?.stringValue ?? ""
            let entry = try #require(introspected[name])
            #expect(method["x-roles"] == entry["roles"], "\(name)")
            #expect(method["x-job"] == entry["job"] && method["x-readonly"] == entry["readonly"], "\(name)")
            #expect(method["x-no-auth-required"] == entry["no_auth_required"], "\(name)")
            #expect(method["result"]?["schema"] == entry["returns"], "\(name)")
            let accepts = entry["accepts"]?.arrayValue ?? []
            let params = method["params"]?.arrayValue ?? []
            #expect(params.map { $0["name"] } == accepts.map { $0["title"] }, "\(name)")
            #expect(params.map { $0["required"] } == accepts.map { $0["_required_"] }, "\(name)")
        }
        // A parameter with a default carries it in its schema; the tags name the service.
        let getMethods = try #require(methods.first { $0["name"] == "core.get_methods" })
        #expect(getMethods["params"]?[0]?["schema"]?["default"] == .null && getMethods["params"]?[0]?["required"] == false)
        #expect(getMethods["tags"]?[0]?["name"] == "core" && getMethods["paramStructure"] == "by-position")
        // Event types are an extension, with their roles.
        let events = try #require(document["x-events"]?.arrayValue)
        let jobs = try #require(events.first { $0["name"] == .string(JobManager.eventName) })
        #expect(jobs["roles"] == [.string(Role.authenticated)] && jobs["scope"] == "cluster")

        // A session that asked for private methods is shown them, as core.get_methods shows them; HTTP never.
        _ = try await root.call(MethodName.setOptions, [["private_methods": true]])
        let withPrivate = try await root.call("rpc.discover")
        #expect(withPrivate["methods"]?.arrayValue?.first { $0["name"] == "hidden.probe" }?["x-private"] == true)
        let overHTTP = try await HTTPExchange.send("GET", "http://127.0.0.1:\(daemon.port)/api/openrpc.json")
        #expect(overHTTP.status == 200 && overHTTP.headers["content-type"]?.hasPrefix("application/json") == true)
        let httpDocument = try JSON.parse(overHTTP.text)
        #expect(httpDocument == document, "GET /api/openrpc.json is rpc.discover's document without private methods")
        await root.close()
        await daemon.stop()
    }

    /// The codes the document declares are the codes a client receives.
    @Test func theDeclaredErrorCodesAreTheOnesTheDialectSends() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        let document = try await root.call("rpc.discover")
        let errors = try #require(document["components"]?["errors"])
        let invalid = try await root.request("core.get_methods", [5])
        #expect(invalid["error"]?["code"] == errors["InvalidParams"]?["code"])
        #expect(invalid["error"]?["message"] == errors["InvalidParams"]?["message"])
        let failed = try await root.request("core.job_wait", [999_999])
        #expect(failed["error"]?["code"] == errors["CallError"]?["code"])
        #expect(failed["error"]?["message"] == errors["CallError"]?["message"])
        // Every method's errors point into components.errors.
        for method in document["methods"]?.arrayValue ?? [] {
            for error in method["errors"]?.arrayValue ?? [] {
                let name = error["$ref"]?.stringValue?.replacingOccurrences(of: "#/components/errors/", with: "") ?? ""
                #expect(errors[name] != nil, "\(method["name"] ?? .null) names \(error)")
            }
        }
        await root.close()
        await daemon.stop()
    }

    /// Like core.get_methods, rpc.discover needs a login.
    @Test func discoverNeedsALogin() async throws {
        let daemon = try await TestDaemon.start()
        let anonymous = try await RPCClient.connect(to: daemon.tcp)
        let refused = try await anonymous.request("rpc.discover")
        #expect(refused["error"]?["data"]?["error"] == .int(Int64(Errno.ENOTAUTHENTICATED)), "\(refused)")
        await anonymous.close()
        await daemon.stop()
    }
}
