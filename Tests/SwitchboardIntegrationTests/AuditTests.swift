import Foundation
import Logging
import Testing
import SwitchboardClient
import SwitchboardCore
import SwitchboardStore

@Suite(.serialized) struct AuditTests {
    /// Issue 15, defect 3: with audit.max-records at 1,000, 1,500 refused calls of a user with no roles used to
    /// push every earlier record out. Now that user's records beyond its quota are summarised, its refused
    /// calls are throttled, FULL_ADMIN's records are counted apart, and when retention must drop young
    /// records an alert says so.
    @Test func noCallersVolumeErasesWhatOthersDid() async throws {
        let daemon = try await TestDaemon.start {
            $0.audit.maxRecords = 1_000
            $0.audit.maxRecordsPerCaller = 600
        }
        let admin = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        _ = try await admin.call("core.subscribe", [.string(Alerts.eventName)])
        _ = try await admin.call("user.create", [["username": "kept", "password": "pw"]])
        let flooders = [try await daemon.client(as: "nobody1", roles: []), try await daemon.client(as: "nobody2", roles: [])]
        for flooder in flooders {
            var busy = 0
            for _ in 0..<700 {
                let answer = try await flooder.request("user.delete", [1])
                if answer["error"]?["data"]?["errname"] == "EBUSY" { busy += 1 }
            }
            // Refused calls are rate-limited like failed logins: 100 refusals, then EBUSY for the minute.
            #expect(busy == 600)
        }
        let alert = try await admin.nextNotification()
        #expect(alert["params"]?["collection"] == .string(Alerts.eventName))
        #expect(alert["params"]?["fields"]?["kind"] == "audit.retention", "\(alert)")
        #expect(alert["params"]?["fields"]?["class"] == "others")

        let records = try await admin.call("audit.query", [[["username", "=", "admin"], ["method", "=", "user.create"]]])
        #expect(records.arrayValue?.count == 1, "FULL_ADMIN's record survived: \(records)")
        let summaries = try await admin.call("audit.query", [[["event", "=", "AUDIT_SUMMARY"], ["username", "=", "nobody1"]]])
        // Its login and 700 calls: 701 records, 600 of them one by one.
        #expect(summaries[0]?["arguments"]?["suppressed"] == 101, "\(summaries)")
        #expect(summaries[0]?["arguments"]?["kinds"]?["METHOD_CALL user.delete failed"] == 101)
        let others = try await admin.call("audit.query", [[["privileged", "=", false]], ["count": true]])
        #expect((others.intValue ?? 0) <= 1_100, "\(others) records of others: the count limit holds")
        for client in flooders + [admin] { await client.close() }
        await daemon.stop()
    }

    /// Issue 15, defect 6: a mistyped API key (or token) was stored whole as the record's username. A near-miss
    /// of a secret is a secret: the username stays empty and the arguments keep the key's id at most.
    @Test func aMistypedKeyOrTokenIsNeverStored() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        _ = try await root.call("user.create", [["username": "ops", "password": "pw", "roles": ["READONLY_ADMIN"]]])
        let created = try await root.call("api_key.create", [["name": "backup", "username": "ops"]])
        let key = try #require(created["key"]?.stringValue)
        let id = try #require(created["id"]?.intValue)
        let nearMiss = String(key.dropLast()) + (key.hasSuffix("x") ? "y" : "x")
        let client = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await client.call("auth.login_with_api_key", [.string(nearMiss)]) == false)
        #expect(try await client.call("auth.login_with_api_key", ["not-even-a-key-Secret123"]) == false)
        #expect(try await client.call("auth.login_with_token", ["a-mistyped-token-Secret456"]) == false)
        let ex = try await client.call("auth.login_ex", [["mechanism": "API_KEY_PLAIN", "username": "ops", "api_key": .string(nearMiss)]])
        #expect(ex["response_type"] == "AUTH_ERR")
        await client.close()
        let records = try await root.call("audit.query", [[["event", "=", "AUTHENTICATION"]], ["order_by": ["id"]]])
        let rows = try #require(records.arrayValue)
        #expect(rows.count == 4, "\(records)")
        #expect(rows.map { $0["username"] } == [.null, .null, .null, "ops"], "\(records)")
        #expect(rows[0]["arguments"] == [.string("\(id)-********")])
        #expect(rows[1]["arguments"] == ["********"])
        #expect(rows[2]["arguments"] == ["********"])
        #expect(rows[3]["arguments"]?[0]?["api_key"] == .string("\(id)-********"))
        let text = records.encodedString()
        let secret = String(key.split(separator: "-").last ?? "")
        #expect(!text.contains(secret.prefix(12)) && !text.contains("Secret123") && !text.contains("Secret456"), "\(text)")
        await root.close()
        await daemon.stop()
    }

    @Test func loginsTokensAndWritesAreRecordedWithSecretsMasked() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        _ = try await root.call("user.create", [["username": "alice", "password": "hunter2-secret", "roles": ["READONLY_ADMIN"]]])

        let client = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await client.call("auth.login", ["alice", "wrong-password"]) == false)
        #expect(try await client.call("auth.login", ["alice", "hunter2-secret"]) == true)
        _ = try await client.call("system.info")            // a read: not recorded
        _ = try await client.call("user.query")             // a read: not recorded
        let refused = try await client.request("user.delete", [1])
        #expect(refused["error"]?["data"]?["error"] == 13)
        let token = try #require(try await client.call("auth.generate_token").stringValue)
        #expect(try await client.call("auth.logout") == true)
        await client.close()
        let withToken = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await withToken.call("auth.login_with_token", [.string(token)]) == true)
        await withToken.close()

        let records = try await root.call("audit.query", [[], ["order_by": ["id"]]])
        let rows = try #require(records.arrayValue)
        let summary = rows.map { "\($0["event"]?.stringValue ?? "") \($0["method"]?.stringValue ?? "") \($0["success"] == true)" }
        #expect(summary == [
            "METHOD_CALL user.create true",
            "AUTHENTICATION auth.login false",
            "AUTHENTICATION auth.login true",
            "METHOD_CALL user.delete false",
            "TOKEN auth.generate_token true",
            "LOGOUT auth.logout true",
            "AUTHENTICATION auth.login_with_token true",
        ], "\(summary)")
        // Who, from where, how it ended.
        #expect(rows[0]["username"] == "root")
        #expect(rows[0]["address"]?.stringValue?.hasPrefix("unix:") == true)
        #expect(rows[1]["username"] == "alice", "a failed login records the name it tried")
        #expect(rows[1]["address"]?.stringValue?.hasPrefix("127.0.0.1:") == true)
        #expect(rows[1]["dialect"] == "jsonrpc")
        #expect(rows[3]["errno"] == 13)
        #expect(rows[3]["error"] == "Not authorized")
        #expect(rows[6]["username"] == "alice")
        #expect(rows[2]["timestamp"]?["$date"] == rows[2]["time_ms"])
        // No secret is stored anywhere in the trail.
        #expect(rows[0]["arguments"]?[0]?["password"] == "********")
        #expect(rows[1]["arguments"]?[1] == "********")
        #expect(rows[6]["arguments"]?[0] == "********")
        let text = records.encodedString()
        #expect(!text.contains("hunter2"))
        #expect(!text.contains("wrong-password"))
        #expect(!text.contains(token))

        // The query language, answered in SQL for paging on stored columns.
        #expect(try await root.call("audit.query", [[["event", "=", "AUTHENTICATION"]], ["count": true]]) == 3)
        let failures = try await root.call("audit.query", [[["success", "=", false]], ["order_by": ["-id"], "limit": 1]])
        #expect(failures[0]?["method"] == "user.delete")
        #expect(try await root.call("audit.query", [[], ["offset": 5, "count": true]]) == 2)
        let newest = try await root.call("audit.query", [[], ["order_by": ["-id"], "get": true, "select": ["method"]]])
        #expect(newest == ["method": "auth.login_with_token"])
        // A filter on the derived timestamp still works (in memory).
        let since = try await root.call("audit.query", [[["timestamp.$date", ">=", rows[6]["time_ms"]!]], ["select": ["id"]]])
        #expect(since.arrayValue?.contains(["id": rows[6]["id"]!]) == true)

        // READONLY_ADMIN may read the trail; a user without roles may not.
        let reader = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await reader.call("auth.login", ["alice", "hunter2-secret"]) == true)
        #expect(try await reader.call("audit.query", [[], ["count": true]]).intValue ?? 0 >= 8)
        await reader.close()
        let nobody = try await daemon.client(as: "nobody", roles: [])
        #expect(try await nobody.request("audit.query")["error"]?["data"]?["error"] == 13)
        await nobody.close()
        await root.close()
        await daemon.stop()
    }

    @Test func restAndEnvelopeCallsAreRecordedToo() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        _ = try await root.call("user.create", [["username": "alice", "password": "pw", "roles": ["FULL_ADMIN"]]])
        let base = "http://127.0.0.1:\(daemon.port)"
        let answer = try await HTTPExchange.send("PUT", base + "/api/v2.0/system/general", headers: HTTPExchange.basic("alice", "pw"),
                                                 body: #"{"motd": "hello"}"#)
        #expect(answer.status == 200)
        let ws = try await WebSocketConnection.connect(to: ConnectionTarget(.tcp(host: "127.0.0.1", port: daemon.port), path: "/socket"))
        try await ws.send(#"{"namespace":"rpc","name":"auth","id":"1","args":{"username":"alice","password":"nope"}}"#)
        _ = try await ws.nextJSON()
        await ws.close()
        let rows = try await root.call("audit.query", [[["method", "in", ["system.general.update", "auth.login", "auth.login_ex"]]], ["order_by": ["id"]]])
        let methods = rows.arrayValue?.map { "\($0["dialect"]?.stringValue ?? "") \($0["method"]?.stringValue ?? "") \($0["success"] == true)" }
        // REST's Basic logs in with auth.login_ex, which can tell a two-factor account apart.
        #expect(methods == ["rest auth.login_ex true", "rest system.general.update true", "envelope auth.login false"], "\(methods ?? [])")
        await root.close()
        await daemon.stop()
    }

    /// Records beyond the count limit, and older than the age limit, are deleted oldest first.
    @Test func retentionByCountAndAge() async throws {
        let stateDir = TestDaemon.makeStateDir()
        // An old record left by an earlier run: deleted when the daemon starts.
        let store = try SQLiteDatastore(path: stateDir + "/switchboard.db")
        try await store.prepare(AuditLog.table)
        let fortyDaysAgo = Session.wallClockMillis - 40 * 86_400_000
        _ = try await store.insert(AuditLog.table, ["event": "METHOD_CALL", "time_ms": .int(fortyDaysAgo), "username": "old"])
        try await store.close()

        let daemon = try await TestDaemon.start(stateDir: stateDir) { $0.audit.maxRecords = 5 }
        let root = try await daemon.rootClient()
        #expect(try await root.call("audit.query", [[["username", "=", "old"]], ["count": true]]) == 0)
        for n in 0..<12 {
            _ = try await root.call("system.general.update", [["motd": .string("m\(n)")]])
        }
        let kept = try await root.call("audit.query", [[], ["order_by": ["id"]]]).arrayValue ?? []
        #expect(kept.count == 5)
        #expect(kept.last?["arguments"]?[0]?["motd"] == "m11")
        #expect(kept.first?["arguments"]?[0]?["motd"] == "m7")
        await root.close()
        await daemon.stop()

        // Ids keep counting after a restart: a record is never confused with a deleted one.
        let again = try await TestDaemon.start(stateDir: stateDir) { $0.audit.maxRecords = 5 }
        let root2 = try await again.rootClient()
        _ = try await root2.call("system.general.update", [["motd": "after"]])
        let newest = try await root2.call("audit.query", [[], ["order_by": ["-id"], "get": true]])
        #expect(newest["id"]?.intValue ?? 0 > kept.last?["id"]?.intValue ?? 0)
        await root2.close()
        await again.stop()
    }

    /// Retention reads id ranges from the oldest record, so it never scans the table, and deletes every expired
    /// record even past one whose clock was ahead.
    @Test func retentionWorksThroughIdRangesOfALargeTrail() async throws {
        let stateDir = TestDaemon.makeStateDir()
        let store = try SQLiteDatastore(path: stateDir + "/audit.db")
        try await store.prepare(AuditLog.table)
        let now = Session.wallClockMillis
        let old = now - 40 * 86_400_000
        // 25,000 records: the first 22,000 forty days old (but for one stamped now), then 3,000 recent.
        let rows: [JSONObject] = (1...25_000).map { id in
            let time = id <= 22_000 && id != 15_000 ? old : now
            return ["id": .int(Int64(id)), "event": "METHOD_CALL", "time_ms": .int(time)]
        }
        try await store.commit(AuditLog.table, upserts: rows, deletes: [])
        func ids() async throws -> [Int64] {
            (try await store.query(AuditLog.table, filters: [], options: QueryOptions()).arrayValue ?? []).compactMap { $0["id"]?.intValue }
        }
        var limits = AuditLog.Limits()
        limits.retention = .seconds(30 * 86_400)
        try await AuditLog(datastore: store, limits: limits, logger: Logger(label: "test")).start()
        let afterAge = try await ids()
        #expect(afterAge.count == 3_001)
        #expect(afterAge.first == 15_000 && afterAge.dropFirst().first == 22_001 && afterAge.last == 25_000)
        // By count: the newest 1,000 stay.
        limits.maxRecords = 1_000
        try await AuditLog(datastore: store, limits: limits, logger: Logger(label: "test")).start()
        let afterCount = try await ids()
        #expect(afterCount == Array(24_001...25_000))
        try await store.close()
    }

    @Test func turnedOffItRecordsNothingAndSaysSo() async throws {
        let daemon = try await TestDaemon.start { $0.audit.enabled = false }
        let root = try await daemon.rootClient()
        _ = try await root.call("system.general.update", [["motd": "x"]])
        let reply = try await root.request("audit.query")
        #expect(reply["error"]?["data"]?["error"] == 95)
        await root.close()
        await daemon.stop()
    }

    @Test func redactionMasksSecretsAtAnyDepthAndCutsLargeArguments() {
        let redacted = AuditRedaction.redact(
            ["alice", "pw", ["nested": ["Password": "x", "list": [["token": "t", "ok": 1]]], "name": "n"]],
            parameterNames: ["username", "password", "data"])
        #expect(redacted == ["alice", "********", ["nested": ["Password": "********", "list": [["token": "********", "ok": 1]]], "name": "n"]])
        let large = AuditRedaction.redact([.string(String(repeating: "x", count: 10_000))], parameterNames: ["blob"])
        #expect(large["truncated"] == true)
        #expect(AuditRedaction.redact([.null], parameterNames: ["password"]) == [.null])
    }
}
