import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore

@Suite(.serialized) struct APIKeyTests {
    /// Creates `owner` with `roles` and a key for it over the local socket; returns the key's row (with `key`).
    static func makeKey(_ daemon: TestDaemon, owner: String, roles: [String], name: String = "backup", extra: JSONObject = [:]) async throws -> JSON {
        let root = try await daemon.rootClient()
        defer { Task { await root.close() } }
        if try await root.call("user.query", [[["username", "=", .string(owner)]], ["count": true]]) == 0 {
            _ = try await root.call("user.create", [["username": .string(owner), "password": "pw", "roles": JSON(strings: roles)]])
        }
        var data: JSONObject = ["name": .string(name), "username": .string(owner)]
        for (key, value) in extra { data[key] = value }
        return try await root.call("api_key.create", [.object(data)])
    }

    @Test func keyIsShownOnceStoredHashedAndLogsInAsItsOwner() async throws {
        let daemon = try await TestDaemon.start()
        let created = try await Self.makeKey(daemon, owner: "ops", roles: ["READONLY_ADMIN"])
        let key = try #require(created["key"]?.stringValue)
        let id = try #require(created["id"]?.intValue)
        #expect(key.hasPrefix("\(id)-"))
        #expect(key.count == "\(id)-".count + 64)
        #expect(created["username"] == "ops")
        #expect(created["revoked"] == false)
        #expect(created["created_at"]?["$date"]?.intValue != nil)
        #expect(created["keyhash"] == nil)

        let root = try await daemon.rootClient()
        let listed = try await root.call("api_key.query")
        #expect(listed.arrayValue?.count == 1)
        #expect(listed[0]?["key"] == nil, "the key is shown only once")
        #expect(listed[0]?["keyhash"] == nil)
        // The hash is invisible to filters: every row reads as having none.
        #expect(try await root.call("api_key.query", [[["keyhash", "=", .null]], ["count": true]]) == 1, "the hash cannot be probed")
        #expect(try await root.call("api_key.query", [[["keyhash", "^", ""]], ["count": true]]) == 0)

        // Over loopback TCP, with every mechanism middlewared clients use.
        let client = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await client.call("auth.login_with_api_key", [.string(key)]) == true)
        let me = try await client.call("auth.me")
        #expect(me["pw_name"] == "ops")
        #expect(me["mechanism"] == "API_KEY_PLAIN")
        #expect(try await client.call("system.info")["hostname"] != nil)
        let refused = try await client.request("user.create", [["username": "x"]])
        #expect(refused["error"]?["data"]?["error"] == 13, "the key has its owner's rights, no more")
        await client.close()

        let ex = try await RPCClient.connect(to: daemon.tcp)
        let answer = try await ex.call("auth.login_ex", [["mechanism": "API_KEY_PLAIN", "username": "ops", "api_key": .string(key)]])
        #expect(answer["response_type"] == "SUCCESS")
        #expect(answer["user_info"]?["pw_name"] == "ops")
        await ex.close()
        // The key of one user does not log in as another.
        let other = try await RPCClient.connect(to: daemon.tcp)
        let wrongUser = try await other.call("auth.login_ex", [["mechanism": "API_KEY_PLAIN", "username": "root", "api_key": .string(key)]])
        #expect(wrongUser["response_type"] == "AUTH_ERR")
        #expect(try await other.call("auth.login_with_api_key", [.string("\(id)-" + String(repeating: "A", count: 64))]) == false)
        #expect(try await other.call("auth.login_with_api_key", ["garbage"]) == false)
        #expect(try await other.call("auth.login_with_api_key", [.string("999-" + String(repeating: "A", count: 64))]) == false)
        let bad = try await other.call("auth.login_ex", [["mechanism": "API_KEY_PLAIN", "api_key": "1-x"]])
        #expect(bad["response_type"] == "AUTH_ERR")
        #expect(bad["reason"] == "Invalid API key")
        await other.close()

        let used = try await root.call("api_key.get_instance", [.int(id)])
        #expect(used["last_used_at"]?["$date"]?.intValue != nil)
        await root.close()
        await daemon.stop()
    }

    @Test func revokedResetAndExpiredKeysAreRefusedWithTheirReason() async throws {
        let daemon = try await TestDaemon.start()
        let created = try await Self.makeKey(daemon, owner: "ops", roles: ["READONLY_ADMIN"])
        let key = try #require(created["key"]?.stringValue)
        let id = try #require(created["id"])
        let root = try await daemon.rootClient()

        func loginEx(_ key: String) async throws -> JSON {
            let client = try await RPCClient.connect(to: daemon.tcp)
            defer { Task { await client.close() } }
            return try await client.call("auth.login_ex", [["mechanism": "API_KEY_PLAIN", "api_key": .string(key)]])
        }

        let revoked = try await root.call("api_key.update", [id, ["revoked": true]])
        #expect(revoked["revoked"] == true)
        #expect(revoked["revoked_reason"] == "Revoked by root")
        #expect(revoked["key"] == nil)
        let refusal = try await loginEx(key)
        #expect(refusal["response_type"] == "AUTH_ERR")
        #expect(refusal["reason"] == "API key revoked")
        _ = try await root.call("api_key.update", [id, ["revoked": false]])
        #expect(try await loginEx(key)["response_type"] == "SUCCESS")

        let reset = try await root.call("api_key.update", [id, ["reset": true]])
        let newKey = try #require(reset["key"]?.stringValue)
        #expect(newKey != key)
        #expect(try await loginEx(key)["reason"] == "Invalid API key")
        #expect(try await loginEx(newKey)["response_type"] == "SUCCESS")

        let past = Session.wallClockMillis - 1000
        _ = try await root.call("api_key.update", [id, ["expires_at": ["$date": .int(past)]]])
        let expired = try await loginEx(newKey)
        #expect(expired["response_type"] == "EXPIRED")
        #expect(expired["reason"] == "API key expired")
        _ = try await root.call("api_key.update", [id, ["expires_at": .null]])
        #expect(try await loginEx(newKey)["response_type"] == "SUCCESS")

        // A locked owner's key does not log in.
        let owner = try #require(try await root.call("user.query", [[["username", "=", "ops"]], ["get": true]])["id"])
        _ = try await root.call("user.update", [owner, ["locked": true]])
        #expect(try await loginEx(newKey)["response_type"] == "AUTH_ERR")

        // Bad input is refused with its attribute path.
        let noUser = try await root.request("api_key.create", [["name": "x", "username": "nobody"]])
        #expect(noUser["error"]?["data"]?["extra"]?[0]?[0] == "api_key_create.username")
        let unnamed = try await root.request("api_key.create", [["username": "ops"]])
        #expect(unnamed["error"]?["data"]?["extra"]?[0]?[0] == "api_key_create.name")
        let duplicate = try await root.request("api_key.create", [["name": "backup", "username": "ops"]])
        #expect(duplicate["error"]?["data"]?["extra"]?[0]?[0] == "api_key_create.name")
        await root.close()
        await daemon.stop()
    }

    /// A delegate with API_KEY_WRITE can make keys for users whose roles it holds, never for an administrator.
    @Test func delegatesCannotMintAdministratorKeys() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        _ = try await root.call("user.create", [["username": "boss", "password": "pw", "roles": ["FULL_ADMIN"]]])
        _ = try await root.call("user.create", [["username": "intern", "password": "pw", "roles": []]])
        let delegate = try await daemon.client(as: "keymaster", roles: ["API_KEY_WRITE"])
        let refused = try await delegate.request("api_key.create", [["name": "escalate", "username": "boss"]])
        #expect(refused["error"]?["data"]?["error"] == 13)
        let allowed = try await delegate.call("api_key.create", [["name": "intern-key", "username": "intern"]])
        #expect(allowed["key"]?.stringValue != nil)
        // Any user sees their own keys, and nobody else's.
        let intern = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await intern.call("auth.login", ["intern", "pw"]) == true)
        let mine = try await intern.call("api_key.my_keys")
        #expect(mine.arrayValue?.map { $0["name"] } == ["intern-key"])
        #expect(mine[0]?["key"] == nil)
        #expect(try await intern.request("api_key.query")["error"]?["data"]?["error"] == 13)
        await intern.close()
        await delegate.close()
        await root.close()
        await daemon.stop()
    }

    /// Issue 15, defect 5: `update` was refused on an administrator's key but `delete` went through. Both now
    /// run the same rule (CRUDService.authorizeRow), as do the user service's update and delete.
    @Test func delegatesCannotRevokeOrDeleteAdministratorKeys() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        _ = try await root.call("user.create", [["username": "boss", "password": "pw", "roles": ["FULL_ADMIN"]]])
        _ = try await root.call("user.create", [["username": "intern", "password": "pw", "roles": []]])
        let bossKey = try #require(try await root.call("api_key.create", [["name": "boss-key", "username": "boss"]])["id"])
        let internKey = try #require(try await root.call("api_key.create", [["name": "intern-key", "username": "intern"]])["id"])
        let delegate = try await daemon.client(as: "keymaster", roles: ["API_KEY_WRITE", "USER_WRITE"])
        for (method, params) in [("api_key.update", [bossKey, ["revoked": true]] as [JSON]), ("api_key.update", [bossKey, ["reset": true]]),
                                 ("api_key.delete", [bossKey])] {
            let refused = try await delegate.request(method, params)
            #expect(refused["error"]?["data"]?["error"] == 13, "\(method) \(params): \(refused)")
        }
        #expect(try await root.call("api_key.get_instance", [bossKey])["revoked"] == false)
        // The same delegate manages the keys of users whose roles it holds.
        #expect(try await delegate.call("api_key.delete", [internKey]) == true)
        // Nor may it delete the administrator's account; an account it may manage, it may delete.
        let bossID = try #require(try await root.call("user.query", [[["username", "=", "boss"]], ["get": true]])["id"])
        #expect(try await delegate.request("user.delete", [bossID])["error"]?["data"]?["error"] == 13)
        let internID = try #require(try await root.call("user.query", [[["username", "=", "intern"]], ["get": true]])["id"])
        let orphan = try #require(try await root.call("api_key.create", [["name": "orphan", "username": "intern"]])["id"])
        #expect(try await delegate.call("user.delete", [internID]) == true)
        // A key whose owner is gone logs nobody in: the delegate may clear it away.
        #expect(try await delegate.call("api_key.delete", [orphan]) == true)
        await delegate.close()
        await root.close()
        await daemon.stop()
    }

    /// With loopback not trusted as secure (a reverse proxy relays remote clients), a key over plain ws:// or
    /// http:// is refused with the reason, and stays valid: nothing is revoked behind the owner's back.
    @Test func keyOverAnUnencryptedRemoteConnectionIsRefusedNotRevoked() async throws {
        let daemon = try await TestDaemon.start { $0.guardLimits.plainLoopbackIsSecure = false }
        let created = try await Self.makeKey(daemon, owner: "ops", roles: ["READONLY_ADMIN"])
        let key = try #require(created["key"]?.stringValue)
        let client = try await RPCClient.connect(to: daemon.tcp)
        let refused = try await client.request("auth.login_with_api_key", [.string(key)])
        #expect(refused["error"]?["data"]?["error"] == 13)
        #expect(refused["error"]?["data"]?["reason"]?.stringValue?.contains("unencrypted") == true)
        let ex = try await client.call("auth.login_ex", [["mechanism": "API_KEY_PLAIN", "api_key": .string(key)]])
        #expect(ex["response_type"] == "AUTH_ERR")
        #expect(ex["reason"]?.stringValue?.contains("wss://") == true)
        let rest = try await HTTPExchange.send("GET", "http://127.0.0.1:\(daemon.port)/api/v2.0/system/info", headers: ["Authorization": "Bearer \(key)"])
        #expect(rest.status == 401)
        #expect(rest.json?["reason"]?.stringValue?.contains("unencrypted") == true)
        await client.close()
        let root = try await daemon.rootClient()
        #expect(try await root.call("api_key.query")[0]?["revoked"] == false)
        await root.close()
        await daemon.stop()
    }

    @Test func restBearerTakesAnAPIKey() async throws {
        let daemon = try await TestDaemon.start()
        let created = try await Self.makeKey(daemon, owner: "ops", roles: ["READONLY_ADMIN"])
        let key = try #require(created["key"]?.stringValue)
        let base = "http://127.0.0.1:\(daemon.port)/api/v2.0"
        let ok = try await HTTPExchange.send("GET", base + "/system/info", headers: ["Authorization": "Bearer \(key)"])
        #expect(ok.status == 200)
        #expect(ok.json?["hostname"] != nil)
        let revokedKey = key.dropLast() + (key.last == "A" ? "B" : "A")
        let bad = try await HTTPExchange.send("GET", base + "/system/info", headers: ["Authorization": "Bearer \(revokedKey)"])
        #expect(bad.status == 401)
        #expect(bad.json?["reason"] == "Invalid API key")
        await daemon.stop()
    }
}
