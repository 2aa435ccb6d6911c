import Foundation
import Testing
import SwitchboardCore

/// The `switchboard call` contract: output and exit codes, against a real daemon.
@Suite(.serialized) struct CLITests {
    @Test func exitCodesAndOutput() async throws {
        let daemon = try await TestDaemon.start()
        let socket = daemon.socketPath
        let url = "ws://127.0.0.1:\(daemon.port)"

        let ping = try Binary.run(["call", "-u", socket, "core.ping"])
        #expect(ping.status == 0)
        #expect(ping.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "\"pong\"")

        // JSON arguments, string fallback, and '-' from stdin.
        let created = try Binary.run(["call", "-u", socket, "user.create", "-"], stdin: #"{"username":"cli","password":"pw","roles":["FULL_ADMIN"]}"#)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(try JSON.parse(created.stdout)["username"] == "cli")
        let echoed = try Binary.run(["call", "-u", socket, "test.echo", "plain words"])
        #expect(try JSON.parse(echoed.stdout) == "plain words")
        let echoedJSON = try Binary.run(["call", "-u", socket, "test.echo", "[1,2]"])
        #expect(try JSON.parse(echoedJSON.stdout) == [1, 2])

        let login = try Binary.run(["call", "-u", url, "-U", "cli", "-P", "pw", "auth.me"])
        #expect(login.status == 0)
        #expect(try JSON.parse(login.stdout)["pw_name"] == "cli")

        let badLogin = try Binary.run(["call", "-u", url, "-U", "cli", "-P", "nope", "auth.me"])
        #expect(badLogin.status == 1)
        #expect(badLogin.stderr.contains("authentication failed"))

        let unauthenticated = try Binary.run(["call", "-u", url, "system.info"])
        #expect(unauthenticated.status == 1)
        #expect(unauthenticated.stderr.contains("Not authenticated"))

        let invalid = try Binary.run(["call", "-u", socket, "user.create", "{}"])
        #expect(invalid.status == 1)
        #expect(invalid.stderr.contains("user_create.username"))

        let unknown = try Binary.run(["call", "-u", socket, "no.such"])
        #expect(unknown.status == 1)

        let usage = try Binary.run(["call"])
        #expect(usage.status == 2)
        let usage2 = try Binary.run(["call", "-U", "only-user", "core.ping"])
        #expect(usage2.status == 2)

        let refused = try Binary.run(["call", "-u", "ws://127.0.0.1:1", "core.ping"])
        #expect(refused.status == 2)
        let noSocket = try Binary.run(["call", "-u", daemon.stateDir + "/missing.sock", "core.ping"])
        #expect(noSocket.status == 2)

        // A token from the CLI logs another CLI call in.
        let token = try Binary.run(["call", "-u", url, "-U", "cli", "-P", "pw", "auth.generate_token", "60", "{}", "false"])
        let tokenValue = try #require(try JSON.parse(token.stdout).stringValue)
        let withToken = try Binary.run(["call", "-u", url, "--token", tokenValue, "auth.me"])
        #expect(withToken.status == 0)

        await daemon.stop()
    }

    @Test func defaultTargetIsTheLocalSocketOfTheDefaultConfiguration() async throws {
        let dir = TestDaemon.makeStateDir()
        let daemon = try await TestDaemon.start(stateDir: dir)
        let output = try Binary.run(["call", "core.ping"], environment: ["SWITCHBOARD_STATE_DIR": dir])
        #expect(output.status == 0)
        await daemon.stop()
    }
}
