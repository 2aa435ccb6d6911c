import Testing
import SwitchboardClient
import SwitchboardCore
@testable import SwitchboardPlugins

@Suite(.serialized) struct AuthTests {
    @Test func firstUserOverLocalSocketThenPasswordLogin() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        let me = try await root.call("auth.me")
        #expect(me["privilege"]?["roles"] == ["FULL_ADMIN"])
        #expect(me["mechanism"] == "UNIX_SOCKET")
        let user = try await root.call("user.create", [["username": "alice", "full_name": "Alice A", "password": "s3cret", "roles": ["FULL_ADMIN"]]])
        #expect(user["username"] == "alice")
        #expect(user["password"] == nil)
        #expect(user["password_hash"] == nil)
        #expect(user["password_set"] == true)
        await root.close()

        let client = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await client.call("auth.login", ["alice", "wrong"]) == false)
        #expect(try await client.call("auth.login", ["nobody", "s3cret"]) == false)
        #expect(try await client.call("auth.login", ["alice", "s3cret"]) == true)
        let info = try await client.call("auth.me")
        #expect(info["pw_name"] == "alice")
        #expect(info["pw_gecos"] == "Alice A")
        #expect(try await client.call("auth.logout") == true)
        await #expect(throws: ClientError.self) { try await client.call("auth.me") }
        await client.close()
        await daemon.stop()
    }

    @Test func passwordHashIsNeverReturnedNorFilterable() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        _ = try await root.call("user.create", [["username": "bob", "password": "pw"]])
        let rows = try await root.call("user.query", [[["password_hash", "^", "$2"]]])
        #expect(rows == [])
        let all = try await root.call("user.query")
        #expect(all.arrayValue?.allSatisfy { $0["password_hash"] == nil } == true)
        let selected = try await root.call("user.query", [[], ["select": ["password_hash", "username"]]])
        #expect(selected == [["username": "bob"]])
        await root.close()
        await daemon.stop()
    }

    /// The username pattern `^[A-Za-z_][A-Za-z0-9_.-]*$` is ECMA-262: its `$` is the end of the string, so a
    /// name with a trailing newline (which ICU's `$` let through) is refused, with the attribute named.
    @Test func usernamePatternRefusesATrailingNewline() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        for name in ["admin\n", "admin\r\n", "9lives", "ad min", "adm\u{663}n"] {
            let refused = try await root.request("user.create", [["username": .string(name)]])
            #expect(refused["error"]?["data"]?["error"] == 22, "\(name.debugDescription)")
            #expect(refused["error"]?["data"]?["extra"]?[0]?[0] == "user_create.username", "\(name.debugDescription)")
            #expect(refused["error"]?["data"]?["extra"]?[0]?[1]?.stringValue?.contains("should match pattern") == true)
        }
        #expect(try await root.call("user.create", [["username": "_ad.min-2"]])["username"] == "_ad.min-2")
        await root.close()
        await daemon.stop()
    }

    @Test func lockedUserCannotLogIn() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        let user = try await root.call("user.create", [["username": "carol", "password": "pw", "locked": true]])
        let client = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await client.call("auth.login", ["carol", "pw"]) == false)
        _ = try await root.call("user.update", [user["id"]!, ["locked": false]])
        #expect(try await client.call("auth.login", ["carol", "pw"]) == true)
        // A changed password replaces the old one.
        _ = try await root.call("user.update", [user["id"]!, ["password": "new"]])
        let other = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await other.call("auth.login", ["carol", "pw"]) == false)
        #expect(try await other.call("auth.login", ["carol", "new"]) == true)
        await other.close()
        await client.close()
        await root.close()
        await daemon.stop()
    }

    @Test func tokens() async throws {
        let daemon = try await TestDaemon.start()
        let admin = try await daemon.client(as: "dave", roles: ["FULL_ADMIN"])
        let token = try #require(try await admin.call("auth.generate_token", [60, [:], true, true]).stringValue)
        #expect(token.count >= 32)
        let second = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await second.call("auth.login_with_token", [.string(token)]) == true)
        #expect(try await second.call("auth.me")["pw_name"] == "dave")
        // Single use: a second redemption fails.
        let third = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await third.call("auth.login_with_token", [.string(token)]) == false)
        // login_ex with TOKEN_PLAIN and PASSWORD_PLAIN.
        let reusable = try #require(try await admin.call("auth.generate_token", [60]).stringValue)
        let ex = try await third.call("auth.login_ex", [["mechanism": "TOKEN_PLAIN", "token": .string(reusable)]])
        #expect(ex["response_type"] == "SUCCESS")
        #expect(ex["user_info"]?["pw_name"] == "dave")
        let fourth = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await fourth.call("auth.login_ex", [["mechanism": "PASSWORD_PLAIN", "username": "dave", "password": "bad"]])["response_type"] == "AUTH_ERR")
        #expect(try await fourth.call("auth.login_ex", [["mechanism": "PASSWORD_PLAIN", "username": "dave", "password": "pa55word"]])["response_type"] == "SUCCESS")
        #expect(try await fourth.call("auth.login_ex", [["mechanism": "TOKEN_PLAIN", "token": "garbage"]])["response_type"] == "AUTH_ERR")
        // An unknown mechanism is a validation error, not a crash.
        let bad = try await fourth.request("auth.login_ex", [["mechanism": "KERBEROS"]])
        #expect(bad["error"]?["code"] == -32602)
        // match_origin: the token works from the same host (127.0.0.1), and a local-socket peer is another origin.
        let pinned = try #require(try await admin.call("auth.generate_token", [60, [:], true]).stringValue)
        let local = try await RPCClient.connect(to: daemon.unix)
        _ = try await local.call("auth.logout")
        #expect(try await local.call("auth.login_with_token", [.string(pinned)]) == false)
        for client in [admin, second, third, fourth, local] { await client.close() }
        await daemon.stop()
    }

    @Test func expiredTokenIsRefused() async throws {
        let daemon = try await TestDaemon.start()
        let admin = try await daemon.client(as: "erin", roles: ["FULL_ADMIN"])
        let token = try #require(try await admin.call("auth.generate_token", [1]).stringValue)
        try await Task.sleep(for: .milliseconds(1200))
        let other = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await other.call("auth.login_ex", [["mechanism": "TOKEN_PLAIN", "token": .string(token)]])["response_type"] == "EXPIRED")
        #expect(try await other.call("auth.login_with_token", [.string(token)]) == false)
        await other.close()
        await admin.close()
        await daemon.stop()
    }

    /// Every method but the allowlist refuses an unauthenticated session with ENOTAUTHENTICATED.
    @Test func unauthenticatedSweep() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        _ = try await root.call("core.set_options", [["private_methods": true]])
        let methods = try #require(try await root.call("core.get_methods").objectValue)
        #expect(methods.count >= 20)
        let allowlist: Set<String> = ["core.ping", "core.set_options", "auth.login", "auth.login_ex", "auth.login_ex_continue", "auth.login_with_token", "auth.login_with_api_key"]
        let anonymous = try await RPCClient.connect(to: daemon.tcp)
        var answered: Set<String> = []
        for name in methods.keys {
            let reply = try await anonymous.request(name, [])
            if reply["error"]?["data"]?["error"] == 207 {
                #expect(reply["error"]?["data"]?["reason"] == "Not authenticated")
            } else {
                answered.insert(name)
            }
        }
        #expect(answered.isSubset(of: allowlist), "answered without authentication: \(answered.subtracting(allowlist))")
        for name in allowlist {
            #expect(methods[name]?["no_auth_required"] == true)
        }
        await anonymous.close()
        await root.close()
        await daemon.stop()
    }

    /// READONLY_ADMIN may read everything and change nothing.
    @Test func readonlyAdminIsRefusedOnWrites() async throws {
        let daemon = try await TestDaemon.start()
        let reader = try await daemon.client(as: "reader", roles: ["READONLY_ADMIN"])
        #expect(try await reader.call("system.info")["hostname"] != nil)
        #expect(try await reader.call("system.general.config")["timezone"] == "UTC")
        #expect(try await reader.call("user.query", [[["username", "=", "reader"]]]).arrayValue?.count == 1)
        let writes: [(String, [JSON])] = [
            ("user.create", [["username": "x", "password": "y"]]),
            ("user.update", [1, ["full_name": "x"]]),
            ("user.delete", [1]),
            ("system.general.update", [["motd": "hi"]]),
        ]
        for (method, params) in writes {
            let reply = try await reader.request(method, params)
            #expect(reply["error"]?["data"]?["error"] == 13, "\(method) was not refused")
            #expect(reply["error"]?["data"]?["reason"] == "Not authorized")
        }
        let root = try await daemon.rootClient()
        #expect(try await root.call("user.query", [[], ["count": true]]) == 1)
        #expect(try await root.call("system.general.config")["motd"] == "")
        // Every built-in method that changes state admits FULL_ADMIN only (or any session, for its own
        // login state and jobs), and the reader is refused by each method that does not name its role.
        let methods = try #require(try await root.call("core.get_methods").objectValue)
        for (name, info) in methods where !name.hasPrefix("test.") && info["readonly"] == false && info["no_auth_required"] == false {
            #expect(info["roles"]?.arrayValue?.contains("READONLY_ADMIN") == false, "\(name) changes state but admits READONLY_ADMIN")
        }
        for (name, info) in methods {
            let roles = info["roles"]?.arrayValue ?? []
            guard info["no_auth_required"] == false, !roles.contains("READONLY_ADMIN"), !roles.contains("AUTHENTICATED") else { continue }
            let reply = try await reader.request(name, [])
            #expect(reply["error"]?["data"]?["error"] == 13, "\(name) did not refuse READONLY_ADMIN")
        }
        await root.close()
        await reader.close()
        await daemon.stop()
    }

    @Test func sessionWithoutRolesCanOnlyUseAuthenticatedMethods() async throws {
        let daemon = try await TestDaemon.start()
        let nobody = try await daemon.client(as: "plain", roles: [])
        #expect(try await nobody.call("auth.me")["pw_name"] == "plain")
        #expect(try await nobody.call("core.ping") == "pong")
        let reply = try await nobody.request("system.info")
        #expect(reply["error"]?["data"]?["error"] == 13)
        await nobody.close()
        await daemon.stop()
    }
}

/// A role is granted only if something admits it: a typo is refused with its place, not stored as a role that
/// grants nothing (issue 14).
@Suite struct RoleTypoTests {
    @Test func unknownRolesAreRefusedAndTheKnownOnesAreListed() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        let refused = try await root.request("user.create", [["username": "typo", "password": "pw", "roles": ["READONLY_ADMIN", "FULL_ADMN"]]])
        let extra = refused["error"]?["data"]?["extra"]
        #expect(refused["error"]?["data"]?["error"] == 22, "\(refused)")
        #expect(extra?[0]?[0] == "user_create.roles.1", "\(refused)")
        #expect(extra?[0]?[1]?.stringValue?.hasPrefix("Unknown role 'FULL_ADMN' (did you mean FULL_ADMIN") == true, "\(refused)")
        #expect(try await root.call("user.query", [[["username", "=", "typo"]]]) == [], "nothing was stored")
        let roles = try #require(try await root.call("core.get_roles").arrayValue?.compactMap(\.stringValue))
        for role in ["FULL_ADMIN", "READONLY_ADMIN", "USER_READ", "USER_WRITE", "API_KEY_WRITE", "AUDIT_READ"] {
            #expect(roles.contains(role), "\(role) is admitted by some method: \(roles)")
        }
        #expect(!roles.contains("AUTHENTICATED"), "a pseudo-role is never granted")
        let created = try await root.call("user.create", [["username": "ok", "password": "pw", "roles": ["USER_READ"]]])
        let id = try #require(created["id"])
        let update = try await root.request("user.update", [id, ["roles": ["USER_RAED"]]])
        #expect(update["error"]?["data"]?["extra"]?[0]?[0] == "user_update.roles.0", "\(update)")
        await root.close()
        await daemon.stop()
    }
}

@Suite struct UserDateTests {
    @Test func createdIsADateLikeEveryOtherOneEvenForAccountsStoredInSeconds() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        let before = Session.wallClockMillis
        let created = try await root.call("user.create", [["username": "dated", "password": "pw"]])
        let millis = try #require(created["created"]?["$date"]?.intValue, "\(created)")
        #expect(millis >= before && millis <= Session.wallClockMillis)
        // An account written by an earlier version, in epoch seconds, reads the same way.
        #expect(UserPlugin.createdDate(.int(1_700_000_000)) == ["$date": 1_700_000_000_000])
        #expect(UserPlugin.createdDate(.null) == .null)
        await root.close()
        await daemon.stop()
    }
}

/// REST answers what it does not route in its own error shape, and its OpenAPI document names every credential
/// the bearer scheme takes (issue 14).
@Suite struct RESTConsistencyTests {
    @Test func patchIsRefusedWith405AndTheMethodsAllowed() async throws {
        let daemon = try await TestDaemon.start()
        let base = "http://127.0.0.1:\(daemon.port)/api/v2.0"
        let patch = try await HTTPExchange.send("PATCH", base + "/user", body: "{}")
        #expect(patch.status == 405, "\(patch.status) \(patch.text)")
        #expect(patch.headers["allow"] == "GET, POST", "\(patch.headers)")
        #expect(patch.json?["errname"] == "ENOTSUP" && patch.json?["reason"] == "PATCH is not allowed on /user; use GET, POST", "\(patch.text)")
        let document = try await HTTPExchange.send("GET", base + "/openapi.json")
        let bearer = document.json?["components"]?["securitySchemes"]?["bearer"]?["description"]?.stringValue ?? ""
        #expect(bearer.contains("auth.generate_token") && bearer.contains("API key"), "\(bearer)")
        await daemon.stop()
    }
}
