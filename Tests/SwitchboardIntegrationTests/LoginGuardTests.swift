import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore

/// Every way in counts toward the lockout, and a miss costs what a hit does (docs/security.md).
@Suite(.serialized) struct LoginGuardTests {
    /// One failure through each login path (the six methods, the envelope's `auth` and `auth_token`, REST's Basic
    /// and both kinds of Bearer) and the address's count is exactly that many: none is missed, none counted twice.
    @Test func everyLoginPathCountsOnceTowardTheLockout() async throws {
        let daemon = try await TestDaemon.start { $0.guardLimits.loginFailures = 100 }
        await (try daemon.client(as: "admin", roles: [Role.fullAdmin])).close()
        let client = try await RPCClient.connect(to: daemon.tcp)
        var paths = 0
        #expect(try await client.call("auth.login", ["admin", "wrong"]) == false); paths += 1
        for data: JSON in [["mechanism": "PASSWORD_PLAIN", "username": "admin", "password": "wrong"],
                           ["mechanism": "TOKEN_PLAIN", "token": "not-a-token"],
                           ["mechanism": "API_KEY_PLAIN", "username": "admin", "api_key": "12-not-a-key"]] {
            #expect(try await client.call("auth.login_ex", [data])["response_type"] == "AUTH_ERR"); paths += 1
        }
        #expect(try await client.call("auth.login_with_token", ["not-a-token"]) == false); paths += 1
        #expect(try await client.call("auth.login_with_api_key", ["12-not-a-key"]) == false); paths += 1
        let envelope = try await WebSocketConnection.connect(to: ConnectionTarget(.tcp(host: "127.0.0.1", port: daemon.port), path: "/socket"))
        try await envelope.send(#"{"namespace":"rpc","name":"auth","id":"a","args":{"username":"admin","password":"wrong"}}"#)
        #expect(try await envelope.nextJSON()["name"] == "error"); paths += 1
        try await envelope.send(#"{"namespace":"rpc","name":"auth_token","id":"b","args":{"token":"not-a-token"}}"#)
        #expect(try await envelope.nextJSON()["name"] == "error"); paths += 1
        await envelope.close()
        let url = "http://127.0.0.1:\(daemon.port)/api/v2.0/auth/me"
        for authorization in [HTTPExchange.basic("admin", "wrong")["Authorization"] ?? "", "Bearer not-a-token", "Bearer 12-not-a-key"] {
            #expect(try await HTTPExchange.send("GET", url, headers: ["Authorization": authorization]).status == 401, "\(authorization)"); paths += 1
        }
        let local = try await daemon.rootClient()
        let rows = try await local.call("auth.lockout.query", [[["address", "=", "127.0.0.1"]]])
        #expect(rows[0]?["failures"] == .int(Int64(paths)), "\(paths) paths: \(rows)")
        for c in [client, local] { await c.close() }
        await daemon.stop()
    }

    /// A wrong password for an account that exists, for one that does not, and for one without a password take
    /// the same bcrypt work. Measured (the one timing assertion of the suite, since timing is the property): the
    /// medians of interleaved attempts must lie within a factor of two, where the fixed cost-10 decoy of before
    /// made a miss four times faster than a hit at cost 12. Interleaving shares any load between the kinds.
    @Test func aMissCostsWhatAHitCosts() async throws {
        let daemon = try await TestDaemon.start {
            $0.plugins = ["user": ["bcrypt_cost": 12]]
            $0.guardLimits.loginFailureDelay = .milliseconds(1)
        }
        let root = try await daemon.rootClient()
        _ = try await root.call("user.create", [["username": "known", "password": "right"]])
        _ = try await root.call("user.create", [["username": "nopass"]])
        await root.close()
        let client = try await RPCClient.connect(to: daemon.tcp)
        var times: [String: [Duration]] = [:]
        for _ in 0..<5 {
            for name in ["known", "ghost", "nopass"] {
                let start = ContinuousClock.now
                #expect(try await client.call("auth.login", [.string(name), "wrong"]) == false)
                times[name, default: []].append(ContinuousClock.now - start)
            }
        }
        func median(_ name: String) -> Double {
            let sorted = (times[name] ?? []).sorted()
            let middle = sorted[sorted.count / 2]
            return Double(middle.components.seconds) + Double(middle.components.attoseconds) / 1e18
        }
        for name in ["ghost", "nopass"] {
            let ratio = median(name) / median("known")
            #expect(ratio > 0.5 && ratio < 2, "\(name) took \(ratio)x the time of a real account: \(times)")
        }
        await client.close()
        await daemon.stop()
    }
}
