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
            // Long enough that no load ends it before the test has seen it; the expiry is the next test's.
            $0.guardLimits.lockout = .seconds(3_600)
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
        await client.close()
        await daemon.stop()
    }

    /// A lockout ends by itself after `lockout`; the right password then works and clears the count.
    @Test func aLockoutExpiresAndASuccessClearsTheCount() async throws {
        let daemon = try await TestDaemon.start {
            $0.guardLimits.loginFailures = 3
            $0.guardLimits.lockout = .seconds(1)
        }
        await (try daemon.client(as: "admin", roles: [Role.fullAdmin])).close()
        let client = try await RPCClient.connect(to: daemon.tcp)
        let local = try await daemon.rootClient()
        for _ in 0..<3 { #expect(try await client.call("auth.login", ["admin", "wrong"]) == false) }
        try await eventually("the lockout of 127.0.0.1 ends") {
            try await local.call("auth.lockout.query", [[["address", "=", "127.0.0.1"], ["locked", "=", true]]]) == []
        }
        #expect(try await client.call("auth.login", ["admin", "pa55word"]) == true)
        // The count starts again from zero: two failures do not lock (a third would).
        for _ in 0..<2 { #expect(try await client.call("auth.login", ["admin", "wrong"]) == false) }
        #expect(try await client.call("auth.login", ["admin", "pa55word"]) == true)
        for c in [client, local] { await c.close() }
        await daemon.stop()
    }
}

/// Issue 15, defect 4: the lockout held only by address, was cleared by any success from it, and was decided after
/// the password check, so parallel guesses overtook it.
@Suite(.serialized) struct LockoutBypassTests {
    @Test func anotherAccountsSuccessDoesNotClearTheFailures() async throws {
        let daemon = try await TestDaemon.start { $0.guardLimits.loginFailures = 5 }
        let root = try await daemon.rootClient()
        for (name, roles) in [("admin", ["FULL_ADMIN"]), ("mallory", [])] as [(String, [String])] {
            _ = try await root.call("user.create", [["username": .string(name), "password": "pa55word", "roles": JSON(strings: roles)]])
        }
        await root.close()
        let attacker = try await RPCClient.connect(to: daemon.tcp)
        for _ in 0..<4 { #expect(try await attacker.call("auth.login", ["admin", "guess"]) == false) }
        // The attacker's own account logs in, as often as it likes: never refused, and it clears nothing.
        for _ in 0..<3 { #expect(try await attacker.call("auth.login", ["mallory", "pa55word"]) == true) }
        #expect(try await attacker.call("auth.login", ["admin", "guess"]) == false)
        let locked = try await attacker.request("auth.login", ["mallory", "pa55word"])
        #expect(locked["error"]?["data"]?["error"] == 13, "\(locked)")
        #expect(locked["error"]?["data"]?["reason"]?.stringValue?.hasPrefix("Too many failed logins from 127.0.0.1") == true)
        // The operator sees the address and the account, and clears both.
        let local = try await daemon.rootClient()
        let rows = try await local.call("auth.lockout.query", [[], ["order_by": ["username"]]])
        #expect(rows[0]?["address"] == "127.0.0.1" && rows[0]?["locked"] == true, "\(rows)")
        #expect(rows[1]?["username"] == "admin" && rows[1]?["failures"] == 5 && rows[1]?["address"] == .null, "\(rows)")
        #expect(try await local.call("auth.lockout.clear", ["127.0.0.1"]) == true)
        #expect(try await local.call("auth.lockout.clear", ["admin"]) == true)
        #expect(try await attacker.call("auth.login", ["mallory", "pa55word"]) == true)
        for client in [attacker, local] { await client.close() }
        await daemon.stop()
    }

    @Test func parallelRESTGuessesCheckNoMoreThanTheLimit() async throws {
        let daemon = try await TestDaemon.start {
            $0.guardLimits.loginFailures = 5
            $0.guardLimits.loginFailureDelay = .milliseconds(200)
        }
        await (try daemon.client(as: "admin", roles: [Role.fullAdmin])).close()
        let url = "http://127.0.0.1:\(daemon.port)/api/v2.0/auth/me"
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<60 {
                group.addTask { try await HTTPExchange.send("GET", url, headers: HTTPExchange.basic("admin", "guess\(index)")).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        // 401: a password that was checked and wrong; 403: refused by the lockout without a check.
        #expect(statuses.filter { $0 == 401 }.count == 5, "\(statuses.sorted())")
        #expect(statuses.filter { $0 == 403 }.count == 55, "\(statuses.sorted())")
        await daemon.stop()
    }
}

/// Connection caps and the idle unauthenticated timeout.
@Suite(.serialized) struct ConnectionLimitTests {
    static func closeCode(_ raw: RawWebSocket, timeout: Duration) -> (code: Int, reason: String, closed: Bool)? {
        let read = raw.readFrames(timeout: timeout)
        guard let close = MessageSizeLimitTests.closeFrame(read.frames) else { return nil }
        return (close.code, close.reason, read.closedByPeer)
    }

    @Test func aSilentUnauthenticatedConnectionIsClosedAnAuthenticatedOneIsNot() async throws {
        let daemon = try await TestDaemon.start { $0.sessionLimits.unauthenticatedIdle = .seconds(1) }
        await (try daemon.client(as: "admin", roles: [Role.fullAdmin])).close()
        let loggedIn = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await loggedIn.call("auth.login", ["admin", "pa55word"]) == true)
        do {
            let silent = try RawWebSocket(port: daemon.port)
            let close = Self.closeCode(silent, timeout: .seconds(4))
            #expect(close?.code == 1008 && close?.reason == "not authenticated within 1 s" && close?.closed == true, "\(String(describing: close))")
        }
        // The logged-in client, silent just as long, is still served.
        #expect(try await loggedIn.call("core.ping") == "pong")
        await loggedIn.close()
        await daemon.stop()
    }
}

/// Message size limits: 8 KiB before authentication (close 1007), 64 KiB after (close 1009), more for a method
/// that declares it; the same on every WebSocket dialect.
@Suite(.serialized) struct MessageSizeLimitTests {
    static func closeFrame(_ frames: [(opcode: UInt8, payload: [UInt8])]) -> (code: Int, reason: String)? {
        guard let close = frames.first(where: { $0.opcode == 0x8 }), close.payload.count >= 2 else { return nil }
        return (Int(close.payload[0]) << 8 | Int(close.payload[1]), String(decoding: close.payload.dropFirst(2), as: UTF8.self))
    }

    @Test(arguments: [("/api/current", #"{"jsonrpc":"2.0","id":1,"method":"core.ping","params":["PAD"]}"#),
                      ("/websocket", #"{"msg":"connect","version":"1","support":["1"],"pad":"PAD"}"#),
                      ("/socket", #"{"namespace":"rpc","name":"identify","id":"1","args":{"pad":"PAD"}}"#)])
    func anUnauthenticatedPeerThatSendsMoreThan8KiBIsClosedWith1007(path: String, template: String) async throws {
        let daemon = try await TestDaemon.start()
        // Just under the limit: answered. (Each raw socket is closed before the daemon stops, which would
        // otherwise wait out its close grace for a peer that does not answer close frames.)
        do {
            let small = try RawWebSocket(port: daemon.port, path: path)
            try small.sendText(template.replacingOccurrences(of: "PAD", with: String(repeating: "x", count: 8_000)))
            let answered = small.readFrames(count: 1, timeout: .seconds(10))
            #expect(answered.frames.contains { $0.opcode == 0x1 } && !answered.closedByPeer, "\(path)")
        }
        // Over it: closed, with the code and the reason.
        do {
            let big = try RawWebSocket(port: daemon.port, path: path)
            try big.sendText(template.replacingOccurrences(of: "PAD", with: String(repeating: "x", count: 9_000)))
            let closed = big.readFrames(timeout: .seconds(3))
            let close = Self.closeFrame(closed.frames)
            #expect(close?.code == 1007 && close?.reason.contains("before authentication") == true, "\(path): \(String(describing: close))")
            #expect(closed.closedByPeer)
        }
        // Others are served meanwhile.
        let other = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await other.call("core.ping") == "pong")
        await other.close()
        await daemon.stop()
    }

    @Test func afterLoginTheLimitIs64KiBUnlessTheMethodDeclaresMore() async throws {
        let daemon = try await TestDaemon.start()
        await (try daemon.client(as: "admin", roles: [Role.fullAdmin])).close()
        try Self.loggedInChecks(port: daemon.port)
        await daemon.stop()
    }

    static func loggedInChecks(port: Int) throws {
        let raw = try RawWebSocket(port: port)
        try raw.sendText(#"{"jsonrpc":"2.0","id":1,"method":"auth.login","params":["admin","pa55word"]}"#)
        #expect(raw.readFrames(count: 1, timeout: .seconds(10)).frames.first.map { String(decoding: $0.payload, as: UTF8.self) } == #"{"jsonrpc":"2.0","id":1,"result":true}"#)
        // 60 KB to a method with the default limit: served (it was over the unauthenticated limit).
        try raw.sendText(#"{"jsonrpc":"2.0","id":2,"method":"test.sleep","params":[1],"pad":""# + String(repeating: "x", count: 60_000) + #""}"#)
        #expect(raw.readFrames(count: 1, timeout: .seconds(10)).frames.first.map { String(decoding: $0.payload, as: UTF8.self) } == #"{"jsonrpc":"2.0","id":2,"result":true}"#)
        // 200 KB to test.echo, which declares 1 MiB: served.
        try raw.sendText(#"{"jsonrpc":"2.0","id":3,"method":"test.echo","params":[""# + String(repeating: "y", count: 200_000) + #""]}"#)
        let echoed = raw.readFrames(count: 1, timeout: .seconds(10))
        #expect(echoed.frames.first?.opcode == 0x1 && (echoed.frames.first?.payload.count ?? 0) > 200_000)
        // 70 KB to a method without a declaration: closed with 1009.
        try raw.sendText(#"{"jsonrpc":"2.0","id":4,"method":"test.sleep","params":[1],"pad":""# + String(repeating: "x", count: 70_000) + #""}"#)
        let closed = raw.readFrames(timeout: .seconds(3))
        let close = Self.closeFrame(closed.frames)
        #expect(close?.code == 1009 && close?.reason.contains("exceeds 65536 bytes") == true, "\(String(describing: close))")
    }
}

/// `auth.sessions` and terminating sessions.
@Suite(.serialized) struct SessionManagementTests {
    /// `auth.terminate_other_sessions` closes every other session of the caller's user, and only those (issue 16).
    @Test func terminatingOtherSessionsClosesExactlyThoseOfTheUser() async throws {
        let daemon = try await TestDaemon.start()
        let mine = try await daemon.client(as: "ops", roles: [Role.readonlyAdmin])
        let bystander = try await daemon.client(as: "other", roles: [Role.readonlyAdmin])
        var peers: [RawWebSocket] = []
        for _ in 0..<2 {
            let peer = try RawWebSocket(port: daemon.port)
            try peer.sendText(#"{"jsonrpc":"2.0","id":1,"method":"auth.login","params":["ops","pa55word"]}"#)
            try await eventually("a second session of ops has logged in") {
                peer.receiveAvailable().frames.contains { String(decoding: $0.payload, as: UTF8.self).contains(#""result":true"#) }
            }
            peers.append(peer)
        }
        #expect(try await mine.call("auth.sessions").arrayValue?.count == 3)
        #expect(try await mine.call("auth.terminate_other_sessions") == true)
        for peer in peers {
            let closed = try await Binary.onThread { peer.readFrames(timeout: .seconds(10)) }
            let close = MessageSizeLimitTests.closeFrame(closed.frames)
            #expect(close?.code == 1008 && close?.reason == "session terminated", "\(String(describing: close))")
        }
        try await eventually("only the caller's own session is left") { try await mine.call("auth.sessions").arrayValue?.count == 1 }
        // Another user's session is untouched.
        #expect(try await bystander.call("core.ping") == "pong")
        for client in [mine, bystander] { await client.close() }
        await daemon.stop()
    }

    @Test func sessionsAreListedAndATerminatedOneIsClosedAtOnce() async throws {
        let daemon = try await TestDaemon.start()
        let admin = try await daemon.client(as: "admin", roles: [Role.fullAdmin])
        // A raw peer, so that the close frame it gets can be read.
        let other = try RawWebSocket(port: daemon.port)
        try other.sendText(#"{"jsonrpc":"2.0","id":1,"method":"auth.login","params":["admin","pa55word"]}"#)
        try await eventually("the other session has logged in") {
            other.receiveAvailable().frames.contains { String(decoding: $0.payload, as: UTF8.self).contains(#""result":true"#) }
        }
        let reader = try await daemon.client(as: "reader", roles: [Role.readonlyAdmin])

        let sessions = try await admin.call("auth.sessions", [[["credentials_data.username", "=", "admin"]]])
        let rows = sessions.arrayValue ?? []
        #expect(rows.count == 2, "\(sessions)")
        let mine = try #require(rows.first { $0["current"] == true })
        let theirs = try #require(rows.first { $0["current"] == false })
        #expect(mine["dialect"] == "jsonrpc" && mine["credentials"] == "PASSWORD_PLAIN")
        #expect(mine["origin"]?.stringValue?.hasPrefix("127.0.0.1:") == true && mine["created_at"]?["$date"]?.intValue != nil)
        // Without FULL_ADMIN, only your own user's sessions.
        let readerView = try await reader.call("auth.sessions").arrayValue ?? []
        #expect(readerView.count == 1 && readerView.first?["credentials_data"]?["username"] == "reader")
        #expect(try await reader.request("auth.terminate_session", [theirs["id"] ?? ""])["error"]?["data"]?["error"] == 13)

        // Refusals: the current session, and one that does not exist.
        #expect(try await admin.request("auth.terminate_session", [mine["id"] ?? ""])["error"]?["data"]?["error"] == 22)
        #expect(try await admin.request("auth.terminate_session", ["no-such-session"])["error"]?["data"]?["error"] == 2)
        // The other session is closed at once, with the code and reason docs/protocols.md gives.
        #expect(try await admin.call("auth.terminate_session", [theirs["id"] ?? ""]) == true)
        let closed = try await Binary.onThread { other.readFrames(timeout: .seconds(10)) }
        let close = MessageSizeLimitTests.closeFrame(closed.frames)
        #expect(close?.code == 1008 && close?.reason == "session terminated", "\(String(describing: close))")
        try await eventually("the directory forgot the terminated session") {
            try await admin.call("auth.sessions", [[["credentials_data.username", "=", "admin"]]]).arrayValue?.count == 1
        }
        for client in [admin, reader] { await client.close() }
        await daemon.stop()
    }
}

/// Per-service roles derived for CRUD and config services: `<PREFIX>_READ` and `<PREFIX>_WRITE`.
@Suite(.serialized) struct ServiceRoleTests {
    @Test func readAndWriteRolesOfAServiceAndNoEscalation() async throws {
        let daemon = try await TestDaemon.start()
        let admin = try await daemon.client(as: "admin", roles: [Role.fullAdmin])
        let adminID = try #require(try await admin.call("auth.me")["pw_uid"])
        let viewer = try await daemon.client(as: "viewer", roles: ["USER_READ"])
        let manager = try await daemon.client(as: "manager", roles: ["USER_WRITE"])

        // USER_READ: reads and subscribes, writes nothing, and reaches no other service.
        #expect((try await viewer.call("user.query")).arrayValue?.isEmpty == false)
        #expect(try await viewer.call("core.subscribe", ["user.query"]).stringValue != nil)
        #expect(try await viewer.request("user.create", [["username": "x1", "password": "pa55word"]])["error"]?["data"]?["error"] == 13)
        #expect(try await viewer.request("dispatcher.list")["error"]?["data"]?["error"] == 13)

        // USER_WRITE includes USER_READ, manages plain accounts...
        #expect((try await manager.call("user.query", [[["username", "=", "viewer"]]])).arrayValue?.count == 1)
        let created = try await manager.call("user.create", [["username": "newbie", "password": "pa55word"]])
        let newbie = try #require(created["id"])
        #expect(try await manager.call("user.update", [newbie, ["full_name": "New Bie"]])["full_name"] == "New Bie")
        // ...but grants no role it does not hold, and cannot touch an administrator's account.
        let escalate = try await manager.request("user.create", [["username": "evil", "password": "pa55word", "roles": ["FULL_ADMIN"]]])
        #expect(escalate["error"]?["data"]?["error"] == 13, "\(escalate)")
        #expect(try await manager.request("user.update", [newbie, ["roles": ["READONLY_ADMIN"]]])["error"]?["data"]?["error"] == 13)
        #expect(try await manager.request("user.update", [adminID, ["password": "taken-over"]])["error"]?["data"]?["error"] == 13)
        #expect(try await manager.request("user.delete", [adminID])["error"]?["data"]?["error"] == 13)
        #expect(try await manager.call("user.delete", [newbie]) == true)
        // The administrator's password is unchanged.
        let again = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await again.call("auth.login", ["admin", "pa55word"]) == true)
        for client in [admin, viewer, manager, again] { await client.close() }
        await daemon.stop()
    }
}

/// Token refusals say why.
@Suite struct TokenRefusalTests {
    @Test func aTokenFromAnotherAddressIsRefusedWithItsReason() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        let token = try await root.call("auth.generate_token", [600, [:], true, false])
        let remote = try await RPCClient.connect(to: daemon.tcp)
        let answer = try await remote.call("auth.login_ex", [["mechanism": "TOKEN_PLAIN", "token": token]])
        #expect(answer == ["response_type": "AUTH_ERR", "reason": "Token not valid from this address"])
        #expect(try await remote.call("auth.login_with_token", [token]) == false, "middlewared's signature: a boolean")
        // The same token without match_origin works from anywhere.
        let roaming = try await root.call("auth.generate_token", [600, [:], false, false])
        #expect(try await remote.call("auth.login_ex", [["mechanism": "TOKEN_PLAIN", "token": roaming]])["response_type"] == "SUCCESS")
        await root.close()
        await remote.close()
        await daemon.stop()
    }
}

/// Only what an attacker does counts against the limits (issue 14): a login with valid credentials is never
/// rate-limited, and an administrator lifts a lockout without a restart.
@Suite(.serialized) struct LoginLimitTests {
    @Test func successfulLoginsAreNeverRateLimitedOnAnyPath() async throws {
        let daemon = try await TestDaemon.start { $0.guardLimits.unauthenticatedCalls = 3 }
        await (try daemon.client(as: "admin", roles: [Role.fullAdmin])).close()
        // REST with Basic auth logs in on every request: 25 of them, far past the limit of 3 per method and address.
        for n in 0..<25 {
            let answer = try await HTTPExchange.send("GET", "http://127.0.0.1:\(daemon.port)/api/v2.0/auth/me",
                                                    headers: HTTPExchange.basic("admin", "pa55word"))
            #expect(answer.status == 200, "request \(n + 1): \(answer.status) \(answer.text)")
        }
        // A new connection per login, as a shell loop of `switchboard call -U -P` makes, on JSON-RPC.
        for n in 0..<25 {
            let client = try await RPCClient.connect(to: daemon.tcp)
            #expect(try await client.call("auth.login", ["admin", "pa55word"]) == true, "login \(n + 1)")
            await client.close()
        }
        // What an attacker does is still counted: unauthenticated calls, and logins that fail.
        let client = try await RPCClient.connect(to: daemon.tcp)
        for _ in 0..<3 { #expect(try await client.call("auth.login", ["admin", "wrong"]) == false) }
        let refused = try await client.request("auth.login", ["admin", "wrong"])
        #expect(refused["error"]?["data"]?["errname"] == "EBUSY", "\(refused)")
        await client.close()
        await daemon.stop()
    }

    @Test func anAdministratorListsAndLiftsALockout() async throws {
        let daemon = try await TestDaemon.start {
            $0.guardLimits.loginFailures = 2
            $0.guardLimits.lockout = .seconds(3600)
        }
        await (try daemon.client(as: "admin", roles: [Role.fullAdmin])).close()
        let client = try await RPCClient.connect(to: daemon.tcp)
        for _ in 0..<2 { #expect(try await client.call("auth.login", ["admin", "wrong"]) == false) }
        #expect(try await client.request("auth.login", ["admin", "pa55word"])["error"]?["data"]?["error"] == 13, "locked out for an hour")
        // Over the local socket (never locked out), an administrator sees the lockout and lifts it.
        let root = try await daemon.rootClient()
        // The account tried is listed too (its own limit is higher: it is not locked).
        let account = try await root.call("auth.lockout.query", [[["username", "=", "admin"]], ["get": true]])
        #expect(account["failures"] == 2 && account["locked"] == false && account["address"] == .null, "\(account)")
        let lockouts = try await root.call("auth.lockout.query", [[["address", "!=", nil]]])
        #expect(lockouts.arrayValue?.count == 1)
        #expect(lockouts[0]?["address"] == "127.0.0.1" && lockouts[0]?["failures"] == 2 && lockouts[0]?["locked"] == true, "\(lockouts)")
        #expect((lockouts[0]?["locked_seconds"]?.intValue ?? 0) > 3500)
        #expect(try await root.call("auth.lockout.clear", ["127.0.0.1"]) == true)
        #expect(try await root.call("auth.lockout.clear", ["127.0.0.1"]) == false, "nothing is held against it any more")
        #expect(try await root.call("auth.lockout.query", [[["address", "!=", nil]]]) == [])
        #expect(try await client.call("auth.login", ["admin", "pa55word"]) == true, "the address may log in at once")
        // FULL_ADMIN only, and audited.
        let reader = try await daemon.client(as: "reader", roles: [Role.readonlyAdmin])
        #expect(try await reader.request("auth.lockout.clear", ["127.0.0.1"])["error"]?["data"]?["error"] == 13)
        #expect(try await reader.request("auth.lockout.query")["error"]?["data"]?["error"] == 13)
        let audited = try await root.call("audit.query", [[["event", "=", "METHOD_CALL"], ["method", "=", "auth.lockout.clear"]]])
        #expect(audited.arrayValue?.map { $0["success"] } == [true, true, false], "both clears and the refused attempt: \(audited)")
        for client in [client, reader, root] { await client.close() }
        await daemon.stop()
    }
}
