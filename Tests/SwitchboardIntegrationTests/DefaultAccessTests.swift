import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore
import SwitchboardPlugins
import SwitchboardServer

/// Issue 15, defect 8: what a user with no roles may call, and who may read the API description, are what the
/// docs say.
@Suite(.serialized) struct DefaultAccessTests {
    /// The methods named in docs/operations.md's table between its markers.
    static func documentedMethods() throws -> Set<String> {
        let text = try String(contentsOf: Binary.packageRoot.appendingPathComponent("docs/operations.md"), encoding: .utf8)
        let start = try #require(text.range(of: "<!-- methods-for-every-user -->"))
        let end = try #require(text.range(of: "<!-- end methods-for-every-user -->"))
        var names = Set<String>()
        for line in text[start.upperBound..<end.lowerBound].split(separator: "\n") where line.hasPrefix("| `") {
            let firstCell = line.split(separator: "|").first ?? ""
            for part in firstCell.split(separator: "`").enumerated() where part.offset % 2 == 1 { names.insert(String(part.element)) }
        }
        return names
    }

    @Test func aUserWithNoRolesMayCallExactlyWhatTheDocsList() async throws {
        let daemon = try await TestDaemon.start(plugins: BuiltinPlugins.all)
        let nobody = try await daemon.client(as: "nobody", roles: [])
        let methods = try #require(try await nobody.call("core.get_methods").objectValue)
        var open = Set<String>()
        for (name, method) in methods {
            let roles = method["roles"]?.arrayValue ?? []
            if method["no_auth_required"] == true || roles.contains(.string(Role.authenticated)) { open.insert(name) }
        }
        let documented = try Self.documentedMethods()
        let undocumented = open.subtracting(documented).sorted()
        let closed = documented.subtracting(open).sorted()
        #expect(open == documented, "open but undocumented: \(undocumented); documented but not open: \(closed)")
        // And the daemon agrees: a method outside the list is refused to this user.
        #expect(try await nobody.request("core.noop_job")["error"]?["data"]?["error"] == 13)
        #expect(try await nobody.request("user.query")["error"]?["data"]?["error"] == 13)
        await nobody.close()
        await daemon.stop()
    }

    /// `/api/docs` and the OpenAPI document follow `dispatcher.public-api-docs`: by default public on a loopback
    /// listener only, elsewhere (or when turned off) they need a login, as `core.get_methods` does.
    @Test func theAPIDescriptionNeedsALoginUnlessItIsPublic() async throws {
        var configuration = DaemonConfiguration(stateDir: "/tmp/x")
        #expect(configuration.resolvedPublicAPIDocs)
        configuration.listen = "0.0.0.0"
        #expect(!configuration.resolvedPublicAPIDocs)
        configuration.publicAPIDocs = true
        #expect(configuration.resolvedPublicAPIDocs)

        let daemon = try await TestDaemon.start { $0.publicAPIDocs = false }
        await (try daemon.client(as: "reader", roles: [Role.readonlyAdmin])).close()
        for path in ["/api/docs", "/api/v2.0/openapi.json", "/api/openrpc.json"] {
            let url = "http://127.0.0.1:\(daemon.port)\(path)"
            let anonymous = try await HTTPExchange.send("GET", url)
            #expect(anonymous.status == 401, "\(path): \(anonymous.status)")
            #expect(anonymous.headers["www-authenticate"]?.hasPrefix("Basic") == true)
            #expect(anonymous.json?["reason"] == "The API description needs a login (dispatcher.public-api-docs is off)")
            let wrong = try await HTTPExchange.send("GET", url, headers: HTTPExchange.basic("reader", "nope"))
            #expect(wrong.status == 401)
            let reader = try await HTTPExchange.send("GET", url, headers: HTTPExchange.basic("reader", "pa55word"))
            #expect(reader.status == 200, "\(path): \(reader.text.prefix(200))")
        }
        await daemon.stop()

        let open = try await TestDaemon.start()
        #expect(try await HTTPExchange.send("GET", "http://127.0.0.1:\(open.port)/api/v2.0/openapi.json").status == 200)
        await open.stop()
    }
}
