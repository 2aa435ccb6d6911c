/// The bounds on file transfers (`POST /_upload`, `GET /_download`), from the `transfers` section of the
/// configuration.
public struct TransferLimits: Sendable, Equatable {
    /// Bytes one upload may carry, its multipart framing included; more is refused with 413.
    public var maxUploadSize: Int64
    /// Uploads and downloads in progress at once across the daemon; more are refused with 429.
    public var maxConcurrent: Int
    /// A transfer whose client sends or takes nothing for this long fails, and its job with it.
    public var stallTimeout: Duration
    /// How long a `core.download` URL stays good before anyone fetches it; then its job is failed.
    public var downloadExpiry: Duration
    /// Download URLs handed out and not yet fetched, at most; more are refused with EBUSY.
    public var maxPendingDownloads: Int

    public init(maxUploadSize: Int64 = 16 << 30, maxConcurrent: Int = 8, stallTimeout: Duration = .seconds(60),
                downloadExpiry: Duration = .seconds(300), maxPendingDownloads: Int = 256) {
        self.maxUploadSize = maxUploadSize
        self.maxConcurrent = maxConcurrent
        self.stallTimeout = stallTimeout
        self.downloadExpiry = downloadExpiry
        self.maxPendingDownloads = maxPendingDownloads
    }
}
