import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore

/// A plugin's session manager logs a connection in from its upgrade request's cookie, in every WebSocket dialect;
/// a forged cookie is refused, audited and counted toward the lockout; the built-in logins stay available.
@Suite(.serialized) struct SessionManagerTests {
    @Test(arguments: ["jsonrpc", "ddp", "envelope"])
    func aSessionCookieLogsTheConnectionIn(dialect: String) async throws {
        let daemon = try await RoomTests.start()
        try await RoomTests.users(daemon, ["alice"])
        let root = try await daemon.rootClient()
        let cookie = try #require(try await root.call("lobby.issue_cookie", ["alice"]).stringValue)

        let vouched = try await RoomTests.driver(daemon, dialect, as: nil, headers: ["Cookie": "theme=dark; lobby_session=\(cookie); x=1"])
        let me = try await vouched.call("auth.me", [])
        #expect(me["pw_name"] == "alice" && me["mechanism"] == "SESSION_MANAGER" && me["account_attributes"] == ["LOCAL"], "\(me)")
        // It is alice with her roles: READONLY_ADMIN reads, and cannot write.
        _ = try await vouched.call("user.query", [])
        await RoomTests.expectError(Int64(Errno.EACCES)) { try await vouched.call("user.create", [["username": "x"]]) }
        await vouched.close()

        let forged = try await RoomTests.driver(daemon, dialect, as: nil, headers: ["Cookie": "lobby_session=forged"])
        await RoomTests.expectError(Int64(Errno.ENOTAUTHENTICATED)) { try await forged.call("auth.me", []) }
        // The built-in mechanisms still work on that connection.
        try await forged.login("alice", "pw")
        #expect(try await forged.call("auth.me", [])["pw_name"] == "alice")
        await forged.close()

        let none = try await RoomTests.driver(daemon, dialect, as: nil)
        await RoomTests.expectError(Int64(Errno.ENOTAUTHENTICATED)) { try await none.call("auth.me", []) }
        await none.close()

        // Both verdicts are in the audit trail, written off the connection's path: wait for them.
        let records = try await eventuallyValue {
            let rows = try await root.call("audit.query", [[["method", "=", "session_manager"]], ["order_by": ["id"]]])
            return rows.arrayValue?.count == 2 ? rows : nil
        }
        #expect(records[0]?["success"] == true && records[0]?["username"] == "alice" && records[0]?["arguments"] == ["manager": "lobby-cookie"])
        #expect(records[1]?["success"] == false && records[1]?["error"] == "unknown or expired lobby session")
        #expect(records[0]?["dialect"] == .string(dialect))
        await root.close()
        await daemon.stop()
    }

    @Test func forgedCookiesCountTowardTheLockout() async throws {
        let daemon = try await TestDaemon.start(plugins: RoomTests.pluginsWithLobby) { config in
            config.guardLimits.loginFailures = 2
        }
        try await RoomTests.users(daemon, ["alice"])
        let root = try await daemon.rootClient()
        let cookie = try #require(try await root.call("lobby.issue_cookie", ["alice"]).stringValue)
        for _ in 0..<2 {
            let forged = try await RoomTests.driver(daemon, "jsonrpc", as: nil, headers: ["Cookie": "lobby_session=forged"])
            await RoomTests.expectError(Int64(Errno.ENOTAUTHENTICATED)) { try await forged.call("auth.me", []) }
            await forged.close()
        }
        // The address is locked out now: even a good cookie logs nobody in, and a password login is refused.
        let locked = try await RoomTests.driver(daemon, "jsonrpc", as: nil, headers: ["Cookie": "lobby_session=\(cookie)"])
        await RoomTests.expectError(Int64(Errno.ENOTAUTHENTICATED)) { try await locked.call("auth.me", []) }
        await RoomTests.expectError(Int64(Errno.EACCES)) { try await locked.call("auth.login", ["alice", "pw"]) }
        await locked.close()
        await root.close()
        await daemon.stop()
    }
}
