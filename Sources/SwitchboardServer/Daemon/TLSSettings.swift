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
            throw ConfigurationError(path: "dispatcher.tls-certificate", reason: "cannot read a PEM certificate from \(certificatePath): \(error)")
        }
        guard !chain.isEmpty else {
            throw ConfigurationError(path: "dispatcher.tls-certificate", reason: "\(certificatePath) holds no certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw ConfigurationError(path: "dispatcher.tls-private-key", reason: "cannot read a PEM private key from \(keyPath): \(error)")
        }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        return tls
    }
}
