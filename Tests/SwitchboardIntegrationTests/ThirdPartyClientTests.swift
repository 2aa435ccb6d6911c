import Foundation
import Testing
import SwitchboardServer

/// Unmodified third-party clients from PyPI against the real daemon (installed by scripts/python-clients,
/// which scripts/test runs first).
@Suite(.serialized) struct ThirdPartyClientTests {
    static var python: String { Binary.packageRoot.appendingPathComponent(".build/python-clients/bin/python").path }
    static var scripts: URL { Binary.packageRoot.appendingPathComponent("Tests/Clients") }

    /// Runs a check script from Tests/Clients against a fresh daemon with an admin user; its output, or nil
    /// (recorded as a failure) when the clients are not installed.
    func runCheck(_ script: String, configure: (inout DaemonConfiguration) -> Void = { _ in }) async throws -> Binary.Output? {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            Issue.record("\(Self.python) is missing: run scripts/python-clients (scripts/test does) to install the third-party clients")
            return nil
        }
        let daemon = try await TestDaemon.start(configure: configure)
        let root = try await daemon.rootClient()
        _ = try await root.call("user.create", [["username": "nas-admin", "password": "s3cret-pw", "roles": ["FULL_ADMIN"]]])
        await root.close()
        let output = try await Binary.run(executable: Self.python, [
            Self.scripts.appendingPathComponent(script).path, "127.0.0.1:\(daemon.port)", "nas-admin", "s3cret-pw",
        ])
        await daemon.stop()
        #expect(output.status == 0, "\(script) failed:\n\(output.stdout)\n\(output.stderr)")
        return output
    }

    @Test func aiotruenasClientOverDDP() async throws {
        guard let output = try await runCheck("aiotruenas_client_check.py") else { return }
        #expect(output.stdout.contains("login and core.ping: ok"))
        #expect(output.stdout.contains("system.info: ok"))
        #expect(output.stdout.contains("job: SUCCESS {'steps': 5}"), "\(output.stdout)")
        #expect(output.stdout.contains("done"))
    }

    @Test func pytruenasOverJSONRPC() async throws {
        guard let output = try await runCheck("pytruenas_check.py") else { return }
        #expect(output.stdout.contains("login and core.ping: ok"))
        #expect(output.stdout.contains("system.info: ok"))
        #expect(output.stdout.contains("user upsert: ok"))
        #expect(output.stdout.contains("done"))
    }

    @Test func pythonMeteorOverDDPWithHeartbeats() async throws {
        guard let output = try await runCheck("meteor_client_check.py", configure: { $0.ddpHeartbeat = .seconds(1) }) else { return }
        #expect(output.stdout.contains("login and core.ping: ok"))
        #expect(output.stdout.contains("subscribe: ok"))
        #expect(output.stdout.contains("job: SUCCESS {'steps': 4}"), "\(output.stdout)")
        #expect(output.stdout.contains("heartbeat: ok"))
        #expect(output.stdout.contains("done"))
    }

    /// Issue 21: the OpenRPC document against the OpenRPC meta-schema (Tests/Clients/openrpc), with jsonschema.
    @Test func openRPCDocumentValidates() async throws {
        guard let output = try await runCheck("openrpc_check.py") else { return }
        #expect(output.stdout.contains("openrpc 1.3.2: valid"), "\(output.stdout)")
        #expect(output.stdout.contains(" rpc.discover ") && output.stdout.contains(" core.get_jobs "), "\(output.stdout)")
        #expect(output.stdout.contains("done"))
    }

    /// Issue 21: /metrics read by prometheus_client's text parser, its counters moving with REST calls.
    @Test func prometheusTextParses() async throws {
        guard let output = try await runCheck("prometheus_check.py") else { return }
        #expect(output.stdout.contains("system.info counted 5, timed 5"), "\(output.stdout)")
        #expect(output.stdout.contains("done"))
    }

    @Test func openAPIDocumentValidates() async throws {
        guard let output = try await runCheck("openapi_check.py") else { return }
        #expect(output.stdout.contains("openapi 3.1.0: valid"), "\(output.stdout)")
        #expect(output.stdout.contains("done"))
    }
}
