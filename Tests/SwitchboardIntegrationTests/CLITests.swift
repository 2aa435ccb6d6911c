import Foundation
import Testing
import SwitchboardCore

/// The `switchboard call` contract: output and exit codes, against a real daemon.
@Suite(.serialized) struct CLITests {
    @Test func exitCodesAndOutput() async throws {
        let daemon = try await TestDaemon.start()
        let socket = daemon.socketPath
        let url = "ws://127.0.0.1:\(daemon.port)"

        let ping = try await Binary.run(["call", "-u", socket, "core.ping"])
        #expect(ping.status == 0)
        #expect(ping.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "\"pong\"")

        // JSON arguments, string fallback, and '-' from stdin.
        let created = try await Binary.run(["call", "-u", socket, "user.create", "-"], stdin: #"{"username":"cli","password":"pw","roles":["FULL_ADMIN"]}"#)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(try JSON.parse(created.stdout)["username"] == "cli")
        let echoed = try await Binary.run(["call", "-u", socket, "test.echo", "plain words"])
        #expect(try JSON.parse(echoed.stdout) == "plain words")
        let echoedJSON = try await Binary.run(["call", "-u", socket, "test.echo", "[1,2]"])
        #expect(try JSON.parse(echoedJSON.stdout) == [1, 2])

        let login = try await Binary.run(["call", "-u", url, "-U", "cli", "-P", "pw", "auth.me"])
        #expect(login.status == 0)
        #expect(try JSON.parse(login.stdout)["pw_name"] == "cli")

        let badLogin = try await Binary.run(["call", "-u", url, "-U", "cli", "-P", "nope", "auth.me"])
        #expect(badLogin.status == 1)
        #expect(badLogin.stderr.contains("authentication failed"))

        let unauthenticated = try await Binary.run(["call", "-u", url, "system.info"])
        #expect(unauthenticated.status == 1)
        #expect(unauthenticated.stderr.contains("Not authenticated"))

        let invalid = try await Binary.run(["call", "-u", socket, "user.create", "{}"])
        #expect(invalid.status == 1)
        #expect(invalid.stderr.contains("user_create.username"))

        let unknown = try await Binary.run(["call", "-u", socket, "no.such"])
        #expect(unknown.status == 1)

        let usage = try await Binary.run(["call"])
        #expect(usage.status == 2)
        let usage2 = try await Binary.run(["call", "-U", "only-user", "core.ping"])
        #expect(usage2.status == 2)

        let refused = try await Binary.run(["call", "-u", "ws://127.0.0.1:1", "core.ping"])
        #expect(refused.status == 2)
        let noSocket = try await Binary.run(["call", "-u", daemon.stateDir + "/missing.sock", "core.ping"])
        #expect(noSocket.status == 2)

        // A token from the CLI logs another CLI call in.
        let token = try await Binary.run(["call", "-u", url, "-U", "cli", "-P", "pw", "auth.generate_token", "60", "{}", "false"])
        let tokenValue = try #require(try JSON.parse(token.stdout).stringValue)
        let withToken = try await Binary.run(["call", "-u", url, "--token", tokenValue, "auth.me"])
        #expect(withToken.status == 0)

        await daemon.stop()
    }

    @Test func defaultTargetIsTheLocalSocketOfTheDefaultConfiguration() async throws {
        let dir = TestDaemon.makeStateDir()
        let daemon = try await TestDaemon.start(stateDir: dir)
        let output = try await Binary.run(["call", "core.ping"], environment: ["SWITCHBOARD_STATE_DIR": dir])
        #expect(output.status == 0)
        await daemon.stop()
    }

    /// The CLI finds the daemon as `serve` placed it: `--config`, the environment, or `./.switchboard` of this
    /// folder or one above it; else it says how to point at it (issue 14).
    @Test func theDaemonIsFoundFromAnyFolderBelowItsOwnOrThroughItsConfiguration() async throws {
        let project = TestDaemon.makeStateDir()
        let daemon = try await TestDaemon.start(stateDir: project + "/.switchboard")
        let deeper = project + "/src/deeper"
        try FileManager.default.createDirectory(atPath: deeper, withIntermediateDirectories: true)
        let clean = ["XDG_STATE_HOME": "", "SWITCHBOARD_STATE_DIR": ""]
        let below = try await Binary.run(["call", "core.ping"], environment: clean, directory: deeper)
        #expect(below.status == 0 && below.stdout.contains("pong"), "\(below.stderr)")
        try #"{"dispatcher": {"state-dir": "\#(project)/.switchboard"}}"#.write(toFile: project + "/conf.json", atomically: true, encoding: .utf8)
        let elsewhere = TestDaemon.makeStateDir()
        let configured = try await Binary.run(["call", "--config", project + "/conf.json", "core.ping"], environment: clean, directory: elsewhere)
        #expect(configured.status == 0, "\(configured.stderr)")
        let lost = try await Binary.run(["call", "core.ping"], environment: clean, directory: elsewhere)
        #expect(lost.status == 2)
        #expect(lost.stderr.contains("no daemon socket at \(elsewhere)/.switchboard/switchboard.sock or in a .switchboard folder above this one"), "\(lost.stderr)")
        #expect(lost.stderr.contains("-u SOCKET_OR_URL, --config FILE or SWITCHBOARD_STATE_DIR"))
        await daemon.stop()
    }

    @Test func versionWrongJobsAndTheServersCloseReasonAreSaidPlainly() async throws {
        let version = try await Binary.run(["--version"])
        #expect(version.status == 0 && version.stdout == Runtime.version + "\n", "\(version.stdout)")
        let daemon = try await TestDaemon.start()
        let missing = try await Binary.run(["jobs", "-u", daemon.socketPath, "wait", "999"])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("switchboard: no job 999 "), "\(missing.stderr)")
        let show = try await Binary.run(["jobs", "-u", daemon.socketPath, "show", "999"])
        #expect(show.status == 1 && show.stderr.hasPrefix("switchboard: no job 999 "), "\(show.stderr)")
        // Over the 64 KiB limit after login: the server's close code and reason reach the user.
        let big = String(repeating: "x", count: 70_000)
        let oversized = try await Binary.run(["call", "-u", daemon.socketPath, "core.ping", big])
        #expect(oversized.status == 2)
        #expect(oversized.stderr.contains("the server closed the connection (1009: message of "), "\(oversized.stderr)")
        await daemon.stop()
    }
}

@Suite(.serialized) struct CLIJobAndEventTests {
    @Test func callFollowsAJob() async throws {
        let daemon = try await TestDaemon.start()
        let socket = daemon.socketPath
        let ok = try await Binary.run(["call", "-j", "-u", socket, "test.job", "4"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(try JSON.parse(ok.stdout) == ["steps": 4])
        #expect(ok.stderr.contains("100% SUCCESS"))
        #expect(ok.stderr.contains("25% RUNNING step 1"))
        let failed = try await Binary.run(["call", "-j", "-u", socket, "test.job", "1", "1", "true"])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("FAILED: no space left for the test"))
        let notAJob = try await Binary.run(["call", "-j", "-u", socket, "core.ping"])
        #expect(notAJob.status == 2)
        await daemon.stop()
    }

    @Test func jobsCommand() async throws {
        let daemon = try await TestDaemon.start()
        let socket = daemon.socketPath
        let root = try await daemon.rootClient()
        let done = try await root.call("test.job", [25, 1])
        _ = try await root.call("core.job_wait", [done])
        let list = try await Binary.run(["jobs", "-u", socket])
        #expect(list.status == 0)
        #expect(list.stdout.contains("\(done.intValue!)\tSUCCESS\t100%\ttest.job"))
        let show = try await Binary.run(["jobs", "show", String(done.intValue!), "-u", socket])
        #expect(try JSON.parse(show.stdout)["state"] == "SUCCESS")
        let log = try await Binary.run(["jobs", "log", String(done.intValue!), "-u", socket])
        #expect(log.stdout.split(separator: "\n").count == 25)
        let running = try await root.call("test.gated", ["never opened"])
        let abort = try await Binary.run(["jobs", "abort", String(running.intValue!), "-u", socket])
        #expect(abort.status == 0)
        let waited = try await Binary.run(["jobs", "wait", String(running.intValue!), "-u", socket])
        #expect(waited.status == 1)
        #expect(waited.stderr.contains("ABORTED"))
        let filtered = try await Binary.run(["jobs", "list", "--state", "aborted", "-u", socket])
        #expect(filtered.stdout.split(separator: "\n").count == 1)
        #expect(try await Binary.run(["jobs", "show", "-u", socket]).status == 2)
        #expect(try await Binary.run(["jobs", "explode", "1", "-u", socket]).status == 2)
        #expect(try await Binary.run(["jobs", "show", "999999", "-u", socket]).status == 1)
        await root.close()
        await daemon.stop()
    }

    @Test func subscribePrintsEventsAsJSONLines() async throws {
        let daemon = try await TestDaemon.start()
        guard let path = Binary.path else { Issue.record("no binary"); return }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["subscribe", "-u", daemon.socketPath, "-n", "2", "-t", "30", "user.query"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let output = Task { try await Binary.onThread { out.fileHandleForReading.readDataToEndOfFile() } }
        // The subscriber may take a while to subscribe on a busy machine: write once it has.
        let root = try await daemon.rootClient()
        try await eventually("the CLI has subscribed") { try await root.call("test.subscriptions", ["user.query"]) == 1 }
        for created in 1...3 { _ = try await root.call("user.create", [["username": .string("user\(created)")]]) }
        let data = try await output.value
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n").map { try? JSON.parse(String($0)) }
        #expect(lines.count == 2)
        let first = lines.first??["fields"]?["username"]?.stringValue ?? ""
        let second = lines.last??["fields"]?["username"]?.stringValue ?? ""
        #expect(first == "user1" && second == "user2", "the first two events, in order")
        #expect(lines.last??["msg"] == "added")
        // An event source with an argument.
        let sourced = try await Binary.run(["subscribe", "-u", daemon.socketPath, "-n", "2", "-t", "60", #"system.stats:{"interval":0.1}"#])
        #expect(sourced.status == 0, "\(sourced.stderr)")
        #expect(sourced.stdout.split(separator: "\n").compactMap { try? JSON.parse(String($0)) }.count == 2, "\(sourced.stdout)")
        // `-t` ends a quiet subscription with status 0 and nothing printed.
        let timed = try await Binary.run(["subscribe", "-u", daemon.socketPath, "-t", "0.5", "user.query"])
        #expect(timed.status == 0, "\(timed.stderr)")
        #expect(timed.stdout.isEmpty, "\(timed.stdout)")
        let unknown = try await Binary.run(["subscribe", "-u", daemon.socketPath, "no.such.event"])
        #expect(unknown.status == 1)
        await root.close()
        await daemon.stop()
    }
}

/// The CLI with an API key and over TLS.
@Suite(.serialized) struct CLISecureTests {
    @Test func apiKeyAndWSS() async throws {
        let certificate = try SelfSignedCertificate.make()
        let daemon = try await TLSTests.start(certificate)
        let created = try await APIKeyTests.makeKey(daemon, owner: "ops", roles: ["READONLY_ADMIN"])
        let key = try #require(created["key"]?.stringValue)
        let url = "wss://127.0.0.1:\(daemon.port)"
        let me = try await Binary.run(["call", "-u", url, "--cacert", certificate.certificate, "--api-key", key, "auth.me"])
        #expect(me.status == 0, "\(me.stderr)")
        #expect(try JSON.parse(me.stdout)["pw_name"] == "ops")
        let badKey = try await Binary.run(["call", "-u", url, "--cacert", certificate.certificate, "--api-key", "1-nope", "auth.me"])
        #expect(badKey.status == 1)
        #expect(badKey.stderr.contains("authentication failed"))
        // Without the certificate to trust, the connection is refused: exit 2.
        let untrusted = try await Binary.run(["call", "-u", url, "--api-key", key, "auth.me"])
        #expect(untrusted.status == 2)
        let insecure = try await Binary.run(["call", "-u", url, "--insecure", "--api-key", key, "auth.me"])
        #expect(insecure.status == 0, "\(insecure.stderr)")
        let both = try await Binary.run(["call", "-u", url, "--api-key", key, "--token", "t", "auth.me"])
        #expect(both.status == 2)
        await daemon.stop()
    }
}
