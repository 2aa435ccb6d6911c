import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore
import SwitchboardServer

/// A self-signed certificate for 127.0.0.1, made by the openssl command for each run.
struct SelfSignedCertificate {
    let directory: String
    var certificate: String { directory + "/cert.pem" }
    var privateKey: String { directory + "/key.pem" }

    static func make() throws -> SelfSignedCertificate {
        let directory = TestDaemon.makeStateDir() + "-tls"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem", "-days", "2", "-subj", "/CN=switchboard-test",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ScriptFailure(description: "openssl could not make a test certificate (exit \(process.terminationStatus))")
        }
        return SelfSignedCertificate(directory: directory)
    }
}

@Suite(.serialized) struct TLSTests {
    static func start(_ certificate: SelfSignedCertificate, configure: @escaping (inout DaemonConfiguration) -> Void = { _ in }) async throws -> TestDaemon {
        try await TestDaemon.start { configuration in
            configuration.tls = true
            configuration.tlsCertificate = certificate.certificate
            configuration.tlsPrivateKey = certificate.privateKey
            configure(&configuration)
        }
    }

    @Test func wssAndHTTPSOnTheOnePort() async throws {
        let certificate = try SelfSignedCertificate.make()
        let daemon = try await Self.start(certificate)
        let root = try await daemon.rootClient()
        _ = try await root.call("user.create", [["username": "alice", "password": "pa55word", "roles": ["READONLY_ADMIN"]]])
        await root.close()

        var target = ConnectionTarget(.tcp(host: "127.0.0.1", port: daemon.port), tls: .init(trustRootsFile: certificate.certificate))
        let secure = try await RPCClient.connect(to: target)
        #expect(try await secure.call("core.ping") == "pong")
        #expect(try await secure.call("auth.login", ["alice", "pa55word"]) == true)
        #expect(try await secure.call("system.info")["hostname"] != nil)
        await secure.close()

        // DDP and the envelope ride the same TLS port.
        target.path = "/websocket"
        let ddp = try await WebSocketConnection.connect(to: target)
        try await ddp.send(#"{"msg":"connect","version":"1","support":["1"]}"#)
        #expect(try await ddp.nextJSON()["msg"] == "connected")
        await ddp.close()

        let https = try await HTTPExchange.send("GET", "https://127.0.0.1:\(daemon.port)/api/v2.0/system/info",
                                                headers: HTTPExchange.basic("alice", "pa55word"), trustRoots: certificate.certificate)
        #expect(https.status == 200)
        #expect(https.json?["hostname"] != nil)
        let health = try await HTTPExchange.send("GET", "https://127.0.0.1:\(daemon.port)/health", trustRoots: certificate.certificate)
        #expect(health.json?["status"] == "ready")

        // A plain client gets no service from the TLS port; a client that does not trust the certificate neither.
        await #expect(throws: (any Error).self) {
            let plain = try await RPCClient.connect(to: ConnectionTarget(.tcp(host: "127.0.0.1", port: daemon.port)))
            _ = try await plain.call("core.ping")
        }
        await #expect(throws: (any Error).self) {
            let untrusting = try await RPCClient.connect(to: ConnectionTarget(.tcp(host: "127.0.0.1", port: daemon.port), tls: .init()))
            _ = try await untrusting.call("core.ping")
        }
        // The local socket stays plain.
        let local = try await daemon.rootClient()
        #expect(try await local.call("core.ping") == "pong")
        await local.close()
        await daemon.stop()
    }

    /// Over TLS an API key is accepted even where plain loopback is not trusted, and the session says it is encrypted.
    @Test func apiKeyOverTLSIsAccepted() async throws {
        let certificate = try SelfSignedCertificate.make()
        let daemon = try await Self.start(certificate) { $0.guardLimits.plainLoopbackIsSecure = false }
        let created = try await APIKeyTests.makeKey(daemon, owner: "ops", roles: ["READONLY_ADMIN"])
        let key = try #require(created["key"]?.stringValue)
        let secure = try await RPCClient.connect(to: ConnectionTarget(.tcp(host: "127.0.0.1", port: daemon.port),
                                                                      tls: .init(trustRootsFile: certificate.certificate)))
        #expect(try await secure.call("auth.login_with_api_key", [.string(key)]) == true)
        #expect(try await secure.call("auth.me")["pw_name"] == "ops")
        await secure.close()
        let https = try await HTTPExchange.send("GET", "https://127.0.0.1:\(daemon.port)/api/v2.0/system/info",
                                                headers: ["Authorization": "Bearer \(key)"], trustRoots: certificate.certificate)
        #expect(https.status == 200)
        await daemon.stop()
    }

    @Test func badCertificateOrKeyFailsStartupNamingTheKey() async throws {
        let certificate = try SelfSignedCertificate.make()
        do {
            _ = try await TestDaemon.start { configuration in
                configuration.tls = true
                configuration.tlsCertificate = certificate.directory + "/missing.pem"
                configuration.tlsPrivateKey = certificate.privateKey
            }
            Issue.record("a daemon started with a missing certificate")
        } catch let error as ConfigurationError {
            #expect(error.path == "dispatcher.tls-certificate")
        }
        do {
            _ = try await TestDaemon.start { configuration in
                configuration.tls = true
                configuration.tlsCertificate = certificate.certificate
                configuration.tlsPrivateKey = certificate.certificate
            }
            Issue.record("a daemon started with a certificate for a key")
        } catch let error as ConfigurationError {
            #expect(error.path == "dispatcher.tls-private-key")
        }
        // The configuration file refuses tls without its files.
        var configuration = DaemonConfiguration(stateDir: "/tmp")
        #expect(throws: ConfigurationError.self) { try configuration.apply(["dispatcher": ["tls": true]]) }
        try configuration.apply(["dispatcher": ["tls": true, "tls-certificate": .string(certificate.certificate),
                                                "tls-private-key": .string(certificate.privateKey)]])
        #expect(configuration.tls)
    }
}
