import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore
import SwitchboardServer
@testable import SwitchboardStore

/// Two-factor login against the real daemon, with every code computed by pyotp (the reference implementation
/// middlewared uses) from the provisioning URI the daemon hands out.
@Suite(.serialized) struct TwoFactorTests {
    /// pyotp's codes for `uri` at each of `times` (seconds since the epoch).
    static func codes(_ uri: String, at times: [Int64]) async throws -> [String] {
        let python = ThirdPartyClientTests.python
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw ScriptFailure(description: "\(python) is missing: run scripts/python-clients (scripts/test does) to install pyotp")
        }
        let script = "import pyotp, sys; t = pyotp.parse_uri(sys.argv[1]); print(' '.join(t.at(int(x)) for x in sys.argv[2:]))"
        let output = try await Binary.run(executable: python, ["-c", script, uri] + times.map(String.init))
        guard output.status == 0 else { throw ScriptFailure(description: "pyotp failed: \(output.stderr)") }
        return output.stdout.split(whereSeparator: \.isWhitespace).map(String.init)
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970) }

    /// A daemon with 2FA on, `alice` (READONLY_ADMIN, password `pa55word`) holding a fresh secret; the
    /// provisioning URI she was given.
    static func aliceWithSecret(stateDir: String? = nil, configure: @escaping (inout DaemonConfiguration) -> Void = { _ in }) async throws -> (TestDaemon, String) {
        let daemon = try await TestDaemon.start(stateDir: stateDir, configure: configure)
        let root = try await daemon.rootClient()
        _ = try await root.call("auth.twofactor.update", [["enabled": true]])
        await root.close()
        let alice = try await daemon.client(as: "alice", roles: [Role.readonlyAdmin])
        let renewed = try await alice.call("user.renew_2fa_secret", ["alice", [:]])
        await alice.close()
        let uri = try #require(renewed["twofactor_config"]?["provisioning_uri"]?.stringValue)
        #expect(renewed["twofactor_config"]?["secret_configured"] == true)
        return (daemon, uri)
    }

    @Test func pyotpCodesAreAcceptedOnceAndWrongOldOrReplayedOnesRefused() async throws {
        let (daemon, uri) = try await Self.aliceWithSecret()
        #expect(uri.hasPrefix("otpauth://totp/Switchboard:alice@"))
        let now = Self.now
        let codes = try await Self.codes(uri, at: [now, now - 30, now - 3600])
        let (current, previous, old) = (codes[0], codes[1], codes[2])
        let client = try await RPCClient.connect(to: daemon.tcp)
        // The password alone, a wrong code and an hour-old code are refused; the session stays logged out.
        #expect(try await client.call("auth.login", ["alice", "pa55word"]) == false)
        #expect(try await client.call("auth.login", ["alice", "pa55word", .string(old)]) == false)
        #expect(try await client.call("auth.login", ["alice", "wrong", .string(current)]) == false)
        await #expect(throws: ClientError.self) { try await client.call("auth.me") }
        #expect(try await client.call("auth.login", ["alice", "pa55word", .string(current)]) == true)
        #expect(try await client.call("auth.me")["pw_name"] == "alice")
        await client.close()
        // The same code again, or one from before it, is refused: each is good once.
        let second = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await second.call("auth.login", ["alice", "pa55word", .string(current)]) == false)
        #expect(try await second.call("auth.login", ["alice", "pa55word", .string(previous)]) == false)
        await #expect(throws: ClientError.self) { try await second.call("auth.me") }
        // user.verify_twofactor_token uses a code up as a login does.
        let root = try await daemon.rootClient()
        let next = try await Self.codes(uri, at: [Self.now + 30])[0]
        #expect(try await root.call("user.verify_twofactor_token", ["alice", .string(next)]) == true)
        #expect(try await root.call("user.verify_twofactor_token", ["alice", .string(next)]) == false)
        await second.close()
        await root.close()
        await daemon.stop()
    }

    @Test func loginExAsksForTheCodeAndTakesItAsOTPToken() async throws {
        let (daemon, uri) = try await Self.aliceWithSecret()
        let client = try await RPCClient.connect(to: daemon.tcp)
        // An OTP_TOKEN nobody asked for is an error, as in middlewared.
        let unasked = try await client.request("auth.login_ex", [["mechanism": "OTP_TOKEN", "otp_token": "123456"]])
        #expect(unasked["error"]?["data"]?["error"] == .int(Int64(Errno.EINVAL)))
        #expect(unasked["error"]?["data"]?["reason"] == "OTP_TOKEN: no authentication in progress")

        let asked = try await client.call("auth.login_ex", [["mechanism": "PASSWORD_PLAIN", "username": "alice", "password": "pa55word"]])
        #expect(asked == ["response_type": "OTP_REQUIRED", "username": "alice"])
        await #expect(throws: ClientError.self) { try await client.call("auth.me") }
        // A wrong code may be retried; a right one logs the session in as the account whose password was checked.
        let wrong = try await client.call("auth.login_ex", [["mechanism": "OTP_TOKEN", "otp_token": "000000x"]])
        #expect(wrong["response_type"] == "OTP_REQUIRED")
        #expect(wrong["reason"] == "Invalid, expired or already used one-time password")
        let code = try await Self.codes(uri, at: [Self.now])[0]
        let done = try await client.call("auth.login_ex_continue", [["mechanism": "OTP_TOKEN", "otp_token": .string(code)]])
        #expect(done["response_type"] == "SUCCESS")
        #expect(done["user_info"]?["pw_name"] == "alice")
        // A token made by the two-factor session logs in without a code: tokens are unaffected.
        let token = try await client.call("auth.generate_token", [60])
        await client.close()

        let other = try await RPCClient.connect(to: daemon.tcp)
        // Another mechanism abandons a login waiting for its code.
        #expect(try await other.call("auth.login_ex", [["mechanism": "PASSWORD_PLAIN", "username": "alice", "password": "pa55word"]])["response_type"] == "OTP_REQUIRED")
        #expect(try await other.call("auth.login_ex", [["mechanism": "TOKEN_PLAIN", "token": "no-such-token"]])["response_type"] == "AUTH_ERR")
        let abandoned = try await other.request("auth.login_ex", [["mechanism": "OTP_TOKEN", "otp_token": .string(code)]])
        #expect(abandoned["error"]?["data"]?["reason"] == "OTP_TOKEN: no authentication in progress")
        #expect(try await other.call("auth.login_ex", [["mechanism": "TOKEN_PLAIN", "token": token]])["response_type"] == "SUCCESS")
        #expect(try await other.call("auth.me")["pw_name"] == "alice")
        await other.close()
        await daemon.stop()
    }

    /// Wrong codes count toward the account's lockout, and a right password in between clears nothing.
    @Test func wrongCodesLockTheAccountOut() async throws {
        let (daemon, uri) = try await Self.aliceWithSecret { $0.guardLimits.loginFailuresPerUser = 3 }
        let client = try await RPCClient.connect(to: daemon.tcp)
        for _ in 0..<3 {
            #expect(try await client.call("auth.login_ex", [["mechanism": "PASSWORD_PLAIN", "username": "alice", "password": "pa55word"]])["response_type"] == "OTP_REQUIRED")
            #expect(try await client.call("auth.login_ex", [["mechanism": "OTP_TOKEN", "otp_token": "99999x"]])["response_type"] == "OTP_REQUIRED")
        }
        let code = try await Self.codes(uri, at: [Self.now])[0]
        let locked = try await client.request("auth.login", ["alice", "pa55word", .string(code)])
        #expect(locked["error"]?["data"]?["error"] == .int(Int64(Errno.EACCES)))
        #expect(locked["error"]?["data"]?["reason"]?.stringValue?.hasPrefix("Too many failed logins for alice") == true, "\(locked)")
        await client.close()
        await daemon.stop()
    }

    /// The envelope's rpc/auth takes `otp_token`; REST's Basic cannot carry one and says so; API keys are unaffected.
    @Test func envelopeAndRESTFollowTheSameRules() async throws {
        let (daemon, uri) = try await Self.aliceWithSecret()
        var target = daemon.tcp
        target.path = "/socket"
        let ws = try await WebSocketConnection.connect(to: target)
        try await ws.send(#"{"namespace":"rpc","name":"auth","id":"a","args":{"username":"alice","password":"pa55word"}}"#)
        let refused = try await ws.nextJSON(timeout: .seconds(10))
        #expect(refused["name"] == "error" && refused["args"]?["message"] == "Authentication failed", "\(refused)")
        let code = try await Self.codes(uri, at: [Self.now])[0]
        try await ws.send(#"{"namespace":"rpc","name":"auth","id":"b","args":{"username":"alice","password":"pa55word","otp_token":"\#(code)"}}"#)
        let accepted = try await ws.nextJSON(timeout: .seconds(10))
        #expect(accepted["name"] == "response" && accepted["id"] == "b", "\(accepted)")
        await ws.close()

        let base = "http://127.0.0.1:\(daemon.port)/api/v2.0"
        let basic = try await HTTPExchange.send("GET", base + "/auth/me", headers: HTTPExchange.basic("alice", "pa55word"))
        #expect(basic.status == 401)
        #expect(basic.text.contains("This account needs a one-time password"), "\(basic.text)")

        let root = try await daemon.rootClient()
        let key = try #require(try await root.call("api_key.create", [["name": "script", "username": "alice"]])["key"]?.stringValue)
        await root.close()
        let keyed = try await HTTPExchange.send("GET", base + "/auth/me", headers: ["Authorization": "Bearer \(key)"])
        #expect(keyed.status == 200 && keyed.json?["pw_name"] == "alice", "\(keyed.status) \(keyed.text)")
        await daemon.stop()
    }

    /// `switchboard call --otp`: a missing code is told apart from a wrong password, and a code works once.
    @Test func theCLITakesTheCode() async throws {
        let (daemon, uri) = try await Self.aliceWithSecret()
        let url = "ws://127.0.0.1:\(daemon.port)"
        let missing = try await Binary.run(["call", "-u", url, "-U", "alice", "-P", "pa55word", "auth.me"])
        #expect(missing.status == 1 && missing.stderr.contains("this account needs a one-time password (--otp CODE)"), "\(missing)")
        let wrongPassword = try await Binary.run(["call", "-u", url, "-U", "alice", "-P", "nope", "--otp", "123456", "auth.me"])
        #expect(wrongPassword.status == 1 && wrongPassword.stderr.contains("authentication failed"), "\(wrongPassword)")
        let code = try await Self.codes(uri, at: [Self.now])[0]
        let accepted = try await Binary.run(["call", "-u", url, "-U", "alice", "-P", "pa55word", "--otp", code, "auth.me"])
        #expect(accepted.status == 0, "\(accepted)")
        #expect(try JSON.parse(accepted.stdout)["pw_name"] == "alice")
        let replayed = try await Binary.run(["call", "-u", url, "-U", "alice", "-P", "pa55word", "--otp", code, "auth.me"])
        #expect(replayed.status == 1 && replayed.stderr.contains("wrong, expired or already used one-time password"), "\(replayed)")
        let alone = try await Binary.run(["call", "-u", url, "--otp", code, "auth.me"])
        #expect(alone.status == 2 && alone.stderr.contains("--otp goes with --username and --password"), "\(alone)")
        await daemon.stop()
    }

    @Test func onlyTheAccountOrAFullAdminSeesItsSecret() async throws {
        let (daemon, _) = try await Self.aliceWithSecret()
        let bob = try await daemon.client(as: "bob", roles: [Role.readonlyAdmin, "USER_WRITE"])
        for (method, params) in [("user.twofactor_config", ["alice"]), ("user.provisioning_uri", ["alice"]),
                                 ("auth.twofactor.provisioning_uri", ["alice"]), ("user.renew_2fa_secret", ["alice", [:]] as [JSON])] as [(String, [JSON])] {
            let refused = try await bob.request(method, params)
            #expect(refused["error"]?["data"]?["error"] == .int(Int64(Errno.EPERM)), "\(method): \(refused)")
        }
        // Bob's own: no secret yet, then one.
        #expect(try await bob.call("user.twofactor_config", ["bob"]) == ["provisioning_uri": nil, "secret_configured": false, "interval": 30, "otp_digits": 6])
        let missing = try await bob.request("auth.twofactor.provisioning_uri")
        #expect(missing["error"]?["data"]?["error"] == .int(Int64(Errno.ENOENT)))
        let renewed = try await bob.call("user.renew_2fa_secret", ["bob", ["otp_digits": 8, "interval": 60]])
        let uri = try #require(renewed["twofactor_config"]?["provisioning_uri"]?.stringValue)
        #expect(uri.contains("&digits=8&period=60"))
        #expect(try await bob.call("auth.twofactor.provisioning_uri") == .string(uri))
        let eight = try await Self.codes(uri, at: [Self.now])[0]
        #expect(eight.count == 8)
        // Options out of range are refused by path.
        let bad = try await bob.request("user.renew_2fa_secret", ["bob", ["otp_digits": 9]])
        #expect(bad["error"]?["data"]?["extra"]?[0]?[0] == "user_renew_2fa_secret.twofactor_options.otp_digits" || bad["error"]?["data"]?["error"] == 22, "\(bad)")
        // USER_WRITE may remove a second factor only from an account whose roles it holds.
        let root = try await daemon.rootClient()
        _ = try await root.call("user.update", [try await Self.id(root, "alice"), ["roles": [.string(Role.fullAdmin)]]])
        let escalation = try await bob.request("user.unset_2fa_secret", ["alice"])
        #expect(escalation["error"]?["data"]?["error"] == .int(Int64(Errno.EACCES)), "\(escalation)")
        #expect(try await root.call("user.query", [[["username", "=", "alice"]], ["get": true]])["twofactor_auth_configured"] == true)
        #expect(try await root.call("user.unset_2fa_secret", ["alice"]) == nil)
        #expect(try await root.call("user.query", [[["username", "=", "alice"]], ["get": true]])["twofactor_auth_configured"] == false)
        // Without a secret, her password alone logs her in again.
        let alice = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await alice.call("auth.login", ["alice", "pa55word"]) == true)
        await alice.close()
        // The secret is neither returned nor filterable.
        let rows = try await root.call("user.query", [[["twofactor_secret", "!=", nil]]])
        #expect(rows == [])
        #expect(try await root.call("user.query").arrayValue?.allSatisfy { $0["twofactor_secret"] == nil } == true)
        await bob.close()
        await root.close()
        await daemon.stop()
    }

    static func id(_ client: RPCClient, _ username: String) async throws -> JSON {
        try await client.call("user.query", [[["username", "=", .string(username)]], ["get": true]])["id"] ?? .null
    }

    /// Off for everyone (the default) means no code is asked for, secret or not; on, it is.
    @Test func theSwitchTurnsTheSecondFactorOnAndOff() async throws {
        let (daemon, _) = try await Self.aliceWithSecret()
        let root = try await daemon.rootClient()
        #expect(try await root.call("auth.twofactor.config") == ["id": 1, "enabled": true, "window": 1])
        _ = try await root.call("auth.twofactor.update", [["enabled": false]])
        let client = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await client.call("auth.login", ["alice", "pa55word"]) == true)
        await client.close()
        let bad = try await root.request("auth.twofactor.update", [["window": 11]])
        #expect(bad["error"]?["data"]?["extra"]?[0]?[0] == "auth_twofactor_update.window", "\(bad)")
        let unknown = try await root.request("auth.twofactor.update", [["services": ["ssh": true]]])
        #expect(unknown["error"]?["data"]?["error"] == 22, "\(unknown)")
        await root.close()
        await daemon.stop()
    }

    /// The secret is stored sealed; a restart keeps it; under another key file a login fails closed and says why.
    @Test func secretsAreSealedAtRestAndNeedTheirKey() async throws {
        let dir = TestDaemon.makeStateDir()
        var (daemon, uri) = try await Self.aliceWithSecret(stateDir: dir)
        await daemon.stop()
        let secret = try #require(URLComponents(string: uri)?.queryItems?.first { $0.name == "secret" }?.value)
        let store = try SQLiteDatastore(path: dir + "/switchboard.db")
        let stored = try await store.read { db in try String.fetchOne(db, sql: "SELECT twofactor_secret FROM users WHERE username = 'alice'") }
        try await store.close()
        #expect(stored?.hasPrefix("aes256gcm:") == true)
        #expect(stored?.contains(secret) == false)

        daemon = try await TestDaemon.start(stateDir: dir)
        let client = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await client.call("auth.login", ["alice", "pa55word", .string(try await Self.codes(uri, at: [Self.now])[0])]) == true)
        await client.close()
        await daemon.stop()

        daemon = try await TestDaemon.start(stateDir: dir) { $0.secretKeyFile = dir + "/another.key" }
        let stranger = try await RPCClient.connect(to: daemon.tcp)
        let failed = try await stranger.request("auth.login", ["alice", "pa55word", .string(try await Self.codes(uri, at: [Self.now + 30])[0])])
        #expect(failed["error"]?["data"]?["reason"]?.stringValue?.contains("security.secret-key-file") == true, "\(failed)")
        await #expect(throws: ClientError.self) { try await stranger.call("auth.me") }
        await stranger.close()
        await daemon.stop()
    }
}

/// Two nodes of one PostgreSQL cluster, given the same key file: a secret renewed on one works on the other,
/// and a code used on one is refused on the other.
@Suite(.serialized) struct TwoFactorClusterTests {
    @Test func aCodeUsedOnOneNodeIsRefusedOnTheOther() async throws {
        let dsn = try await TestPostgres.createDatabase()
        let key = TestDaemon.makeStateDir() + "/cluster.key"
        func node(_ name: String) async throws -> TestDaemon {
            try await TestDaemon.start { configuration in
                configuration.datastoreDriver = "postgresql"
                configuration.datastoreDSN = dsn
                configuration.nodeName = name
                configuration.secretKeyFile = key
            }
        }
        let a = try await node("node-a")
        let b = try await node("node-b")
        let root = try await a.rootClient()
        _ = try await root.call("auth.twofactor.update", [["enabled": true]])
        await root.close()
        let alice = try await a.client(as: "alice", roles: [Role.readonlyAdmin])
        let uri = try #require(try await alice.call("user.renew_2fa_secret", ["alice", [:]])["twofactor_config"]?["provisioning_uri"]?.stringValue)
        await alice.close()
        let code = try await TwoFactorTests.codes(uri, at: [TwoFactorTests.now])[0]
        let onB = try await RPCClient.connect(to: b.tcp)
        #expect(try await onB.call("auth.login", ["alice", "pa55word"]) == false, "node B asks for the code too")
        #expect(try await onB.call("auth.login", ["alice", "pa55word", .string(code)]) == true)
        await onB.close()
        let onA = try await RPCClient.connect(to: a.tcp)
        #expect(try await onA.call("auth.login", ["alice", "pa55word", .string(code)]) == false, "replayed on node A")
        await onA.close()
        await a.stop()
        await b.stop()
        await TestPostgres.dropDatabase(dsn)
    }
}
