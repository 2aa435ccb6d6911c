import Foundation
import NIOSSL

/// The TLS configuration of the TCP listener, from `dispatcher.tls-certificate` and `dispatcher.tls-private-key`.
enum TLSSettings {
    /// - Throws: `ConfigurationError` naming the key whose file cannot be read or parsed.
    static func serverConfiguration(_ configuration: DaemonConfiguration) throws -> TLSConfiguration {
        guard let certificatePath = configuration.tlsCertificate else {
            throw ConfigurationError(path: "dispatcher.tls-certificate", reason: "is required when dispatcher.tls is true")
        }
        guard let keyPath = configuration.tlsPrivateKey else {
            throw ConfigurationError(path: "dispatcher.tls-private-key", reason: "is required when dispatcher.tls is true")
        }
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw ConfigurationError(path: "dispatcher.tls-certificate", reason: "cannot read a PEM certificate from \(certificatePath): \(Self.why(certificatePath))")
        }
        guard !chain.isEmpty else {
            throw ConfigurationError(path: "dispatcher.tls-certificate", reason: "\(certificatePath) holds no certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw ConfigurationError(path: "dispatcher.tls-private-key", reason: "cannot read a PEM private key from \(keyPath): \(Self.why(keyPath))")
        }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        return tls
    }

    /// Why BoringSSL refused a file, in words: the system's reason when it cannot be read, else its content.
    static func why(_ path: String) -> String {
        guard FileManager.default.isReadableFile(atPath: path) else { return DaemonConfiguration.whyUnreadable(path) }
        return "it is not in PEM format (or does not hold what this key names)"
    }
}
