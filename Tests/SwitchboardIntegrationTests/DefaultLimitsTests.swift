import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore
import SwitchboardServer
@testable import SwitchboardStore

/// The test daemon relaxes every limit (bcrypt cost 4, a million login failures, 20 ms delays) so the rest of
/// the suite runs fast; this suite runs the daemon exactly as `DaemonConfiguration` defaults it, as an operator
/// who writes no configuration gets it, and checks the figures docs/configuration.md gives.
@Suite(.serialized) struct DefaultLimitsTests {
    static func startWithDefaults() async throws -> TestDaemon {
        try await TestDaemon.start { configuration in
            var defaults = DaemonConfiguration(stateDir: configuration.stateDir)
            defaults.websocketPort = 0
            // The UI's 8180 may be taken by another daemon on the machine; its default is not what is checked here.
            defaults.frontendPort = 0
            configuration = defaults
        }
    }

    /// `security.login-failure-delay-ms` 1000, `security.login-failures` 5, `security.lockout-seconds` 3600, and
    /// `plugins.user.bcrypt_cost` 10.
    @Test func loginsUnderTheDefaults() async throws {
        let daemon = try await Self.startWithDefaults()
        let root = try await daemon.rootClient()
        _ = try await root.call("user.create", [["username": "admin", "password": "pa55word", "roles": ["FULL_ADMIN"]]])
        let client = try await RPCClient.connect(to: daemon.tcp)
        for _ in 0..<5 {
            let start = ContinuousClock.now
            #expect(try await client.call("auth.login", ["admin", "wrong"]) == false)
            // A lower bound: a loaded machine only makes it longer.
            #expect(ContinuousClock.now - start >= .seconds(1), "a failure was answered before the 1 s delay")
        }
        let locked = try await client.request("auth.login", ["admin", "pa55word"])
        #expect(locked["error"]?["data"]?["errname"] == "EACCES", "\(locked)")
        #expect(locked["error"]?["data"]?["reason"]?.stringValue?.hasPrefix("Too many failed logins from 127.0.0.1") == true, "\(locked)")
        let lockout = try await root.call("auth.lockout.query", [[["address", "=", "127.0.0.1"]]])
        let seconds = lockout[0]?["locked_seconds"]?.intValue ?? 0
        #expect(seconds > 3_500 && seconds <= 3_600, "\(lockout)")
        // The local socket is the way back in.
        #expect(try await root.call("auth.login", ["admin", "pa55word"]) == true)
        for c in [client, root] { await c.close() }
        await daemon.stop()
        let store = try SQLiteDatastore(path: daemon.stateDir + "/switchboard.db")
        let hash = try await store.query(TableDefinition("users", columns: [.init("username", .text), .init("password_hash", .text)]),
                                         filters: [], options: QueryOptions())[0]?["password_hash"]?.stringValue ?? ""
        #expect(hash.hasPrefix("$2b$10$") || hash.hasPrefix("$2a$10$"), "the hash was not made at cost 10: \(hash.prefix(7))")
        try await store.close()
    }

    /// `security.unauthenticated-calls` 20 per method and address in the window; `security.refused-calls` 100
    /// refusals for lack of a role in 60 s.
    @Test func callRatesUnderTheDefaults() async throws {
        let daemon = try await Self.startWithDefaults()
        let anonymous = try await RPCClient.connect(to: daemon.tcp)
        for _ in 0..<20 { #expect(try await anonymous.call("core.ping") == "pong") }
        let limited = try await anonymous.request("core.ping")
        #expect(limited["error"]?["data"]?["errname"] == "EBUSY", "\(limited)")
        let root = try await daemon.rootClient()
        _ = try await root.call("user.create", [["username": "nobody", "password": "pa55word"]])
        let nobody = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await nobody.call("auth.login", ["nobody", "pa55word"]) == true)
        for _ in 0..<100 { #expect(try await nobody.request("user.create", [["username": "x"]])["error"]?["data"]?["errname"] == "EACCES") }
        let throttled = try await nobody.request("auth.me")
        #expect(throttled["error"]?["data"]?["errname"] == "EBUSY", "\(throttled)")
        for c in [anonymous, root, nobody] { await c.close() }
        await daemon.stop()
    }

    /// `security.request-head-timeout-seconds` 10: a socket that never sends its request head is answered 408.
    @Test func aSilentSocketIsLetGoAfterTheDefaultHeadTimeout() async throws {
        let daemon = try await Self.startWithDefaults()
        let silent = try RawTCP(port: daemon.port)
        let start = ContinuousClock.now
        let answer = try await Binary.onThread { silent.readUntilClosed(timeout: .seconds(60)) }
        #expect(answer.text.hasPrefix("HTTP/1.1 408"), "\(answer.text)")
        #expect(ContinuousClock.now - start >= .seconds(10), "answered before the 10 s deadline")
        await daemon.stop()
    }
}
