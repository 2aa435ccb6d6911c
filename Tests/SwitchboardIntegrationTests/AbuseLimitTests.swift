import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore

/// The unauthenticated rate limit and the failed-login delay and lockout, on real connections from 127.0.0.1
/// (limited) and the local socket (exempt).
@Suite(.serialized) struct AbuseLimitTests {
    @Test func unauthenticatedCallsAreRateLimitedPerMethodAndAddress() async throws {
        let daemon = try await TestDaemon.start { $0.guardLimits.unauthenticatedCalls = 3 }
        let first = try await RPCClient.connect(to: daemon.tcp)
        for _ in 0..<3 { #expect(try await first.call("core.ping") == "pong") }
        let refused = try await first.request("core.ping")
        #expect(refused["error"]?["data"]?["error"] == 16 && refused["error"]?["data"]?["errname"] == "EBUSY", "\(refused)")
        #expect(refused["error"]?["data"]?["reason"]?.stringValue?.contains("Rate limit exceeded") == true)
        // Another connection from the same address shares the count; another method has its own.
        let second = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await second.request("core.ping")["error"]?["data"]?["error"] == 16)
        #expect(try await second.request("core.set_options", [[:]])["result"] != nil)
        // Logged in, a session is no longer counted.
        await (try daemon.client(as: "admin", roles: [Role.fullAdmin])).close()
        #expect(try await second.call("auth.login", ["admin", "pa55word"]) == true)
        for _ in 0..<10 { #expect(try await second.call("core.ping") == "pong") }
        // The local socket is exempt.
        let local = try await RPCClient.connect(to: daemon.unix)
        for _ in 0..<10 { #expect(try await local.call("core.ping") == "pong") }
        for client in [first, second, local] { await client.close() }
        await daemon.stop()
    }

    @Test func failedLoginsAreSlowedThenTheAddressIsLockedOut() async throws {
        let daemon = try await TestDaemon.start {
            $0.guardLimits.loginFailures = 3
            $0.guardLimits.loginFailureDelay = .milliseconds(200)
            $0.guardLimits.lockout = .seconds(2)
        }
        await (try daemon.client(as: "admin", roles: [Role.fullAdmin])).close()
        let client = try await RPCClient.connect(to: daemon.tcp)
        for _ in 0..<3 {
            let start = ContinuousClock.now
            #expect(try await client.call("auth.login", ["admin", "wrong"]) == false)
            #expect(ContinuousClock.now - start >= .milliseconds(200), "a failure is answered only after the delay")
        }
        // Locked out: even the right password is refused, with the reason, on every dialect.
        let locked = try await client.request("auth.login", ["admin", "pa55word"])
        #expect(locked["error"]?["data"]?["error"] == 13, "\(locked)")
        #expect(locked["error"]?["data"]?["reason"]?.stringValue?.hasPrefix("Too many failed logins from 127.0.0.1") == true)
        let rest = try await HTTPExchange.send("GET", "http://127.0.0.1:\(daemon.port)/api/v2.0/auth/me", headers: HTTPExchange.basic("admin", "pa55word"))
        #expect(rest.status == 403 && rest.json?["reason"]?.stringValue?.hasPrefix("Too many failed logins") == true, "\(rest.text)")
        // The local socket is never locked out: it is the way back in.
        let local = try await RPCClient.connect(to: daemon.unix)
        #expect(try await local.call("auth.login", ["admin", "pa55word"]) == true)
        await local.close()
        // After the lockout, the right password works again, and clears the count.
        try await Task.sleep(for: .milliseconds(2_200))
        #expect(try await client.call("auth.login", ["admin", "pa55word"]) == true)
        await client.close()
        await daemon.stop()
    }
}
