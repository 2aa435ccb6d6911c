import Foundation
import Testing

/// Unmodified third-party clients from PyPI against the real daemon (installed by scripts/python-clients,
/// which scripts/test runs first).
@Suite(.serialized) struct ThirdPartyClientTests {
    static var python: String { Binary.packageRoot.appendingPathComponent(".build/python-clients/bin/python").path }
    static var scripts: URL { Binary.packageRoot.appendingPathComponent("Tests/Clients") }

    @Test func aiotruenasClientOverDDP() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            Issue.record("\(Self.python) is missing: run scripts/python-clients (scripts/test does) to install the third-party clients")
            return
        }
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        _ = try await root.call("user.create", [["username": "nas-admin", "password": "s3cret-pw", "roles": ["FULL_ADMIN"]]])
        await root.close()
        let output = try await Binary.run(executable: Self.python, [
            Self.scripts.appendingPathComponent("aiotruenas_client_check.py").path, "127.0.0.1:\(daemon.port)", "nas-admin", "s3cret-pw",
        ])
        #expect(output.status == 0, "aiotruenas-client failed:\n\(output.stdout)\n\(output.stderr)")
        #expect(output.stdout.contains("login and core.ping: ok"))
        #expect(output.stdout.contains("system.info: ok"))
        #expect(output.stdout.contains("job: SUCCESS {'steps': 5}"), "\(output.stdout)")
        #expect(output.stdout.contains("done"))
        await daemon.stop()
    }

    @Test func pytruenasOverJSONRPC() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            Issue.record("\(Self.python) is missing: run scripts/python-clients (scripts/test does) to install the third-party clients")
            return
        }
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        _ = try await root.call("user.create", [["username": "nas-admin", "password": "s3cret-pw", "roles": ["FULL_ADMIN"]]])
        await root.close()
        let output = try await Binary.run(executable: Self.python, [
            Self.scripts.appendingPathComponent("pytruenas_check.py").path, "127.0.0.1:\(daemon.port)", "nas-admin", "s3cret-pw",
        ])
        #expect(output.status == 0, "pytruenas failed:\n\(output.stdout)\n\(output.stderr)")
        #expect(output.stdout.contains("login and core.ping: ok"))
        #expect(output.stdout.contains("system.info: ok"))
        #expect(output.stdout.contains("user upsert: ok"))
        #expect(output.stdout.contains("done"))
        await daemon.stop()
    }
}
