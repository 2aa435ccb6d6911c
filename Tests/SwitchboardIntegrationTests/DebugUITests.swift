import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore
import SwitchboardPlugins
import SwitchboardServer

/// Issue 21, item 1: the debug UI on `dispatcher.frontend-port`, in a real browser (Debian's chromium and
/// chromium-driver, selenium from PyPI: scripts/browser and scripts/python-clients, which scripts/test runs).
@Suite(.serialized) struct DebugUITests {
    static var screenshots: String { Binary.packageRoot.appendingPathComponent(".build/screenshots").path }

    @Test func aUserLogsInCallsWatchesAJobAndEventsAbortsAndLogsOut() async throws {
        guard FileManager.default.isExecutableFile(atPath: ThirdPartyClientTests.python) else {
            Issue.record("\(ThirdPartyClientTests.python) is missing: run scripts/python-clients (scripts/test does)")
            return
        }
        let daemon = try await TestDaemon.start(plugins: BuiltinPlugins.all + [TestPlugin(), FormsPlugin()]) { $0.frontendPort = 0 }
        let frontend = try #require(daemon.frontendPort)
        let admin = try await daemon.client(as: "ui-admin", roles: [Role.fullAdmin])
        // A second account with a second factor, for the login form's one-time code.
        _ = try await admin.call("auth.twofactor.update", [["enabled": true]])
        await (try daemon.client(as: "ui-otp", roles: [Role.readonlyAdmin])).close()
        let renewed = try await admin.call("user.renew_2fa_secret", ["ui-otp", [:]])
        let uri = try #require(renewed["twofactor_config"]?["provisioning_uri"]?.stringValue)
        await admin.close()
        let output = try await Binary.run(executable: ThirdPartyClientTests.python, [
            Binary.packageRoot.appendingPathComponent("Tests/Browser/ui_check.py").path,
            "http://127.0.0.1:\(frontend)/", "ui-admin", "pa55word", Self.screenshots, "ui-otp", uri,
        ], timeout: .seconds(180))
        await daemon.stop()
        #expect(output.status == 0, "ui_check.py failed:\n\(output.stdout)\n\(output.stderr)")
        for line in ["login: ok", "form call: ok", "oneOf, array, enum and $ref form: ok", "job progress: ok", "live events: ok", "abort: ok", "daemon and frames: ok", "logout: ok", "two-factor login: ok", "done"] {
            #expect(output.stdout.contains(line), "\(line) missing from:\n\(output.stdout)")
        }
        #expect(output.stdout.contains("validation error at steps: "), "\(output.stdout)")
        for page in ["login", "methods", "jobs", "events", "daemon", "frames"] {
            for size in ["desktop", "phone"] {
                #expect(FileManager.default.fileExists(atPath: "\(Self.screenshots)/\(page)-\(size).png"), "\(page)-\(size).png")
            }
        }
    }

    /// The page, its script and style are served from the binary with headers that keep the page to its own
    /// script and origin; the port's WebSocket speaks the dialects; the main port does not serve the page.
    @Test func thePortServesThePageAndTheDialects() async throws {
        let daemon = try await TestDaemon.start { $0.frontendPort = 0 }
        let frontend = try #require(daemon.frontendPort)
        let page = try await HTTPExchange.send("GET", "http://127.0.0.1:\(frontend)/")
        #expect(page.status == 200 && page.headers["content-type"] == "text/html; charset=utf-8")
        #expect(page.headers["content-security-policy"]?.contains("default-src 'self'") == true)
        #expect(page.headers["content-security-policy"]?.contains("frame-ancestors 'none'") == true)
        #expect(page.text.contains(#"<script src="/ui.js"></script>"#))
        #expect(try await HTTPExchange.send("GET", "http://127.0.0.1:\(frontend)/ui.js").headers["content-type"] == "text/javascript; charset=utf-8")
        #expect(try await HTTPExchange.send("GET", "http://127.0.0.1:\(frontend)/ui.css").status == 200)
        let settings = try await HTTPExchange.send("GET", "http://127.0.0.1:\(frontend)/ui/settings.json")
        #expect(settings.json == ["api_port": .int(Int64(daemon.port))])
        #expect(try await HTTPExchange.send("GET", "http://127.0.0.1:\(daemon.port)/ui.js").status == 404)
        let client = try await RPCClient.connect(to: ConnectionTarget(.tcp(host: "127.0.0.1", port: frontend)))
        #expect(try await client.call("core.ping") == "pong")
        await client.close()
        await daemon.stop()
    }

    /// `dispatcher.frontend-port: null` turns it off; the ready line says where it is, or that it is off.
    @Test func theBinaryNamesThePortOrSaysItIsOff() async throws {
        let on = try await ServedBinary.start()
        let line = try await on.waitForLog("ready in")
        let url = try #require(line.split(separator: " ").first { $0.hasPrefix("frontend=http://127.0.0.1:") })
        let port = try #require(Int(url.split(separator: ":").last ?? ""))
        #expect(try await HTTPExchange.send("GET", "http://127.0.0.1:\(port)/").status == 200)
        _ = try await on.stop()
        // The tests' environment sets SWITCHBOARD_FRONTEND_PORT=0, which would win over the file: emptied here.
        let off = try await ServedBinary.start(configuration: #"{"dispatcher": {"frontend-port": null}}"#,
                                               environment: ["SWITCHBOARD_FRONTEND_PORT": ""])
        #expect(try await off.waitForLog("ready in").contains("frontend=off"))
        _ = try await off.stop()
    }
}
