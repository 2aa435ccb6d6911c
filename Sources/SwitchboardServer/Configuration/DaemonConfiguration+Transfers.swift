import SwitchboardCore

/// The `transfers` section: the bounds on `POST /_upload` and `GET /_download`.
extension DaemonConfiguration {
    static let transferKeys: Set<String> = [
        "max-upload-size-mb", "max-concurrent", "stall-timeout-seconds", "download-expiry-seconds", "max-pending-downloads",
    ]

    mutating func applyTransfers(_ root: JSONObject) throws {
        guard let value = root["transfers"] else { return }
        let section = try Self.object(value, "transfers", known: Self.transferKeys)
        if let v = section["max-upload-size-mb"] {
            transfers.maxUploadSize = Int64(try Self.integer(v, "transfers.max-upload-size-mb", 1...(1 << 30))) << 20
        }
        if let v = section["max-concurrent"] { transfers.maxConcurrent = try Self.integer(v, "transfers.max-concurrent", 1...10_000) }
        if let v = section["stall-timeout-seconds"] {
            transfers.stallTimeout = .seconds(try Self.integer(v, "transfers.stall-timeout-seconds", 1...86_400))
        }
        if let v = section["download-expiry-seconds"] {
            transfers.downloadExpiry = .seconds(try Self.integer(v, "transfers.download-expiry-seconds", 1...86_400))
        }
        if let v = section["max-pending-downloads"] {
            transfers.maxPendingDownloads = try Self.integer(v, "transfers.max-pending-downloads", 1...100_000)
        }
    }

    /// How long an HTTP connection may send nothing before it is closed: a minute, or longer when the stall timeout
    /// of transfers is, so that a slow upload's job is failed by the rule the operator set and not by the
    /// connection's own idle timeout first.
    var httpIdleTimeout: Duration { max(.seconds(60), transfers.stallTimeout) }
}
