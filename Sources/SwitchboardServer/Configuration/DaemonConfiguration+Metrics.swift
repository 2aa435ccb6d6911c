import Foundation
import SwitchboardCore

/// The `metrics` section (issue 21): `enabled`, `public`, `role`, `bearer-token-file`.
extension DaemonConfiguration {
    mutating func applyMetrics(_ root: JSONObject) throws {
        guard let value = root["metrics"] else { return }
        let section = try Self.object(value, "metrics", known: MetricsSettings.keys)
        if let v = section["enabled"] {
            guard case .bool(let b) = v else { throw ConfigurationError(path: "metrics.enabled", reason: "must be true or false") }
            metrics.enabled = b
        }
        if let v = section["public"] {
            guard case .bool(let b) = v else { throw ConfigurationError(path: "metrics.public", reason: "must be true or false") }
            metrics.isPublic = b
        }
        if let v = section["role"] { metrics.role = try Self.string(v, "metrics.role") }
        if let v = section["bearer-token-file"] {
            let path = try Self.string(v, "metrics.bearer-token-file")
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError(path: "metrics.bearer-token-file", reason: "cannot read \(path): \(Self.whyUnreadable(path))")
            }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard token.count >= MetricsSettings.minimumTokenLength else {
                throw ConfigurationError(path: "metrics.bearer-token-file",
                                         reason: "the token in \(path) must be at least \(MetricsSettings.minimumTokenLength) characters")
            }
            metrics.bearerTokenFile = path
            metrics.bearerToken = token
        }
    }

    /// Whether `/metrics` needs no authentication: `metrics.public`, or by default a loopback listener.
    public var resolvedPublicMetrics: Bool { metrics.isPublic ?? Self.isLoopback(listen) }
}
