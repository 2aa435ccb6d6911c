import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore

/// Every method, called over every dialect without authentication and as READONLY_ADMIN: only the allowlist
/// answers the first, no write succeeds for the second, and the datastore is the same afterwards.
@Suite(.serialized) struct DialectSweepTests {
    static let allowlist: Set<String> = [
        "core.ping", "core.set_options", "auth.login", "auth.login_ex", "auth.login_ex_continue", "auth.login_with_token", "auth.login_with_api_key",
    ]

    static func drivers(_ daemon: TestDaemon) async throws -> [any ScenarioDriver] {
        func ws(_ path: String) async throws -> WebSocketConnection {
            try await WebSocketConnection.connect(to: ConnectionTarget(.tcp(host: "127.0.0.1", port: daemon.port), path: path))
        }
        return [
            FrameDriver.jsonRPC(try await ws("/api/current")),
            try await FrameDriver.ddp(try await ws("/websocket")),
            FrameDriver.envelope(try await ws("/socket")),
            RESTDriver(base: "http://127.0.0.1:\(daemon.port)"),
        ]
    }

    /// What the datastore holds that a write could change, read as root.
    static func snapshot(_ root: RPCClient) async throws -> JSON {
        [
            "users": try await root.call("user.query", [[], ["order_by": ["id"]]]),
            "keys": try await root.call("api_key.query"),
            "general": try await root.call("system.general.config"),
            "jobs": try await root.call("core.get_jobs", [[], ["count": true]]),
        ]
    }

    /// No arguments, but an id where REST's path needs one (`/user/id/{id}`), so the refusal is about who calls.
    static func arguments(_ driver: any ScenarioDriver, _ method: String) async -> [JSON] {
        guard let rest = driver as? RESTDriver, let route = try? await rest.route(method) else { return [] }
        return route.path.contains("{id}") ? [1] : []
    }

    static func methods(_ root: RPCClient) async throws -> JSONObject {
        _ = try await root.call("core.set_options", [["private_methods": true]])
        return try #require(try await root.call("core.get_methods").objectValue)
    }

    @Test func unauthenticatedSweepOnEveryDialect() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        _ = try await root.call("user.create", [["username": "alice", "password": "pw", "roles": ["FULL_ADMIN"]]])
        let methods = try await Self.methods(root)
        let before = try await Self.snapshot(root)
        for driver in try await Self.drivers(daemon) {
            var answered: Set<String> = []
            var checked = 0
            for name in methods.keys.sorted() where !Self.allowlist.contains(name) {
                do {
                    _ = try await driver.call(name, await Self.arguments(driver, name))
                    answered.insert(name)
                } catch let error as ScenarioError {
                    // REST has no route for private methods: 201 there is also "not served".
                    if driver.dialect == "REST" && error.errno == 201 { continue }
                    #expect(error.errno == 207, "\(driver.dialect) \(name): \(error)")
                    checked += 1
                }
            }
            #expect(answered.isEmpty, "\(driver.dialect) answered without authentication: \(answered.sorted())")
            #expect(checked >= 20, "\(driver.dialect) checked only \(checked) methods")
            await driver.close()
        }
        #expect(try await Self.snapshot(root) == before)
        await root.close()
        await daemon.stop()
    }

    @Test func readonlyAdminSweepOnEveryDialect() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        _ = try await root.call("user.create", [["username": "reader", "password": "pw", "roles": ["READONLY_ADMIN"]]])
        _ = try await root.call("api_key.create", [["name": "k", "username": "reader"]])
        let methods = try await Self.methods(root)
        let before = try await Self.snapshot(root)
        // Methods any session may call for itself (its login, its own jobs and sessions) are not writes of the system.
        let own = methods.filter { _, info in
            info["roles"]?.arrayValue?.contains("AUTHENTICATED") == true || info["no_auth_required"] == true
        }.keys
        for driver in try await Self.drivers(daemon) {
            try await driver.login("reader", "pw")
            var refused = 0
            // The test plugin's own methods admit READONLY_ADMIN on purpose (the other suites use them).
            for (name, info) in methods.sorted(by: { $0.key < $1.key })
            where info["readonly"] == false && !own.contains(name) && !name.hasPrefix("test.") {
                do {
                    _ = try await driver.call(name, await Self.arguments(driver, name))
                    Issue.record("\(driver.dialect): READONLY_ADMIN called \(name)")
                } catch let error as ScenarioError {
                    if driver.dialect == "REST" && error.errno == 201 { continue }
                    #expect(error.errno == 13, "\(driver.dialect) \(name): \(error)")
                    refused += 1
                }
            }
            #expect(refused >= 10, "\(driver.dialect) refused only \(refused) writes")
            // Reads still work.
            #expect(try await driver.call("system.info", [])["hostname"] != nil)
            await driver.close()
        }
        #expect(try await Self.snapshot(root) == before)
        await root.close()
        await daemon.stop()
    }
}
