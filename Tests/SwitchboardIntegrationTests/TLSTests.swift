import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore
@testable import SwitchboardServer
import Logging
import Synchronization

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

    /// The CLI says what went wrong and what to do, not BoringSSL's error stack or NIO's channel state; the
    /// daemon logs a client's failed handshake at debug level, not as its own error (issue 14).
    @Test func aWrongSchemeOrAnUntrustedCertificateIsExplained() async throws {
        let certificate = try SelfSignedCertificate.make()
        let daemon = try await Self.start(certificate)
        let plain = try await Binary.run(["call", "-u", "ws://127.0.0.1:\(daemon.port)", "core.ping"])
        #expect(plain.status == 2)
        #expect(plain.stderr.contains("the server closed the connection before it answered the WebSocket upgrade (if it serves TLS, use wss://)"),
                "\(plain.stderr)")
        let untrusted = try await Binary.run(["call", "-u", "wss://127.0.0.1:\(daemon.port)", "core.ping"])
        #expect(untrusted.status == 2)
        #expect(untrusted.stderr.contains("TLS handshake failed: the server's certificate is not trusted (give its certificate or CA with --cacert FILE)"),
                "\(untrusted.stderr)")
        #expect(!untrusted.stderr.contains(".build") && !untrusted.stderr.contains("BoringSSL"), "\(untrusted.stderr)")
        let trusted = try await Binary.run(["call", "-u", "wss://127.0.0.1:\(daemon.port)", "--cacert", certificate.certificate, "core.ping"])
        #expect(trusted.status == 0, "\(trusted.stderr)")
        await daemon.stop()
    }

    /// A TLS client on the plain port is answered 400 at once (issue 15): it used to wait until the daemon
    /// gave up on it. The head deadline is a minute here, longer than the run's own 30 s bound.
    @Test func wssToAPlainPortFailsAtOnce() async throws {
        let daemon = try await TestDaemon.start { $0.requestHeadTimeout = .seconds(60) }
        let wrong = try await Binary.run(["call", "-u", "wss://127.0.0.1:\(daemon.port)", "core.ping"], timeout: .seconds(30))
        #expect(wrong.status == 2, "\(wrong.stderr)")
        #expect(wrong.stderr.contains("TLS handshake failed: the server does not speak TLS on this port (use ws://)"), "\(wrong.stderr)")
        await daemon.stop()
    }

    @Test func aClientsFailedHandshakeIsLoggedAtDebugLevel() async throws {
        final class Recorder: LogHandler, @unchecked Sendable {
            var logLevel: Logger.Level = .trace
            var metadata: Logger.Metadata = [:]
            subscript(metadataKey key: String) -> Logger.Metadata.Value? {
                get { metadata[key] }
                set { metadata[key] = newValue }
            }
            let lines = Mutex<[(Logger.Level, String)]>([])
            func log(event: LogEvent) { lines.withLock { $0.append((event.level, event.message.description)) } }
        }
        let recorder = Recorder()
        let handler = ClientFaultLogHandler(base: recorder)
        handler.log(event: LogEvent(level: .error, message: "Error handling upgrade result", metadata: nil, source: "HummingbirdWebSocket",
                                    file: #fileID, function: #function, line: #line))
        handler.log(event: LogEvent(level: .error, message: "listener failed", metadata: nil, source: "SwitchboardServer",
                                    file: #fileID, function: #function, line: #line))
        #expect(recorder.lines.withLock { $0.map(\.0) } == [.debug, .error], "only the client's fault is lowered")
        recorder.logLevel = .info
        handler.log(event: LogEvent(level: .error, message: "Error handling upgrade result", metadata: nil, source: "HummingbirdWebSocket",
                                    file: #fileID, function: #function, line: #line))
        #expect(recorder.lines.withLock { $0.count } == 2, "below the handler's level it is not logged at all")
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
        let plain = await #expect(throws: ClientError.self) {
            let plain = try await RPCClient.connect(to: ConnectionTarget(.tcp(host: "127.0.0.1", port: daemon.port)))
            _ = try await plain.call("core.ping")
        }
        #expect(plain.map { "\($0)" }?.hasSuffix(
            "the server closed the connection before it answered the WebSocket upgrade (if it serves TLS, use wss://)") == true,
                "\(String(describing: plain))")
        let untrusting = await #expect(throws: ClientError.self) {
            let untrusting = try await RPCClient.connect(to: ConnectionTarget(.tcp(host: "127.0.0.1", port: daemon.port), tls: .init()))
            _ = try await untrusting.call("core.ping")
        }
        #expect(untrusting.map { "\($0)" }?.hasSuffix(
            "TLS handshake failed: the server's certificate is not trusted (give its certificate or CA with --cacert FILE)") == true,
                "\(String(describing: untrusting))")
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
