import SwitchboardCore

/// The `metrics` section: whether `/metrics` is served and who may read it.
public struct MetricsSettings: Sendable, Equatable {
    /// `metrics.enabled`: record and serve metrics. Off, calls are not counted at all (no lookup, no clock read
    /// beyond what the call limiter does) and `/metrics` answers 404.
    public var enabled = true
    /// `metrics.public`: serve `/metrics` without authentication. Unset: only when the TCP listener is loopback,
    /// as for the API docs.
    public var isPublic: Bool?
    /// `metrics.role`: the role a logged-in client (Basic, a token or an API key, as REST takes them) needs to
    /// read `/metrics` when it is not public.
    public var role = Role.readonlyAdmin
    /// `metrics.bearer-token-file`: a file whose content (trimmed) is a token a scraper may send as
    /// `Authorization: Bearer <token>` instead of a user's credentials. Read once, at start.
    public var bearerTokenFile: String?
    /// The token read from `bearerTokenFile`.
    public var bearerToken: String?

    public init() {}

    static let keys: Set<String> = ["enabled", "public", "role", "bearer-token-file"]
    /// A scraper's token shorter than this is refused: it would be guessable.
    static let minimumTokenLength = 16
}
