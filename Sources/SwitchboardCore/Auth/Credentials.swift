/// Role names every plugin can rely on.
public enum Role {
    /// May do everything; implies every other role.
    public static let fullAdmin = "FULL_ADMIN"
    /// May call every read method.
    public static let readonlyAdmin = "READONLY_ADMIN"
    /// Pseudo-role: any authenticated session (for `auth.me`, `auth.logout`, `core.ping`).
    public static let authenticated = "AUTHENTICATED"

    public static let builtIn: [String] = [fullAdmin, readonlyAdmin]

    /// The roles that admit a caller as declared: an empty declaration means FULL_ADMIN only.
    public static func effective(_ declared: [String]) -> [String] { declared.isEmpty ? [fullAdmin] : declared }

    /// The role prefix of a service: `user` -> `USER`, `pool.dataset` -> `POOL_DATASET`.
    public static func prefix(_ namespace: String) -> String {
        namespace.uppercased().replacingOccurrences(".", with: "_")
    }

    /// Reading a CRUD or config service: `<PREFIX>_READ`, which `<PREFIX>_WRITE` includes.
    public static func read(_ namespace: String) -> [String] { [prefix(namespace) + "_READ", prefix(namespace) + "_WRITE"] }

    /// Changing a CRUD or config service: `<PREFIX>_WRITE`.
    public static func write(_ namespace: String) -> [String] { [prefix(namespace) + "_WRITE"] }
}

/// Who a session is, once authenticated.
public struct Credentials: Sendable, Equatable {
    /// How the session proved who it is; the names are those of `auth.login_ex` mechanisms.
    public enum Mechanism: String, Sendable {
        case passwordPlain = "PASSWORD_PLAIN"
        case tokenPlain = "TOKEN_PLAIN"
        case apiKeyPlain = "API_KEY_PLAIN"
        /// Kernel credentials of a local socket peer (SO_PEERCRED).
        case unixSocket = "UNIX_SOCKET"
        /// A plugin's session manager vouched for the connection's HTTP upgrade request (a session cookie).
        case sessionManager = "SESSION_MANAGER"
        /// The daemon calling itself.
        case `internal` = "INTERNAL"
    }

    public var username: String
    public var userID: Int64?
    public var roles: Set<String> {
        didSet { isFullAdmin = roles.contains(Role.fullAdmin) }
    }
    /// `roles` holds FULL_ADMIN: asked on every call and for every subscriber of every event, so kept rather
    /// than hashed each time.
    public private(set) var isFullAdmin: Bool
    public var mechanism: Mechanism

    public init(username: String, userID: Int64? = nil, roles: Set<String>, mechanism: Mechanism) {
        self.username = username
        self.userID = userID
        self.roles = roles
        self.isFullAdmin = roles.contains(Role.fullAdmin)
        self.mechanism = mechanism
    }

    /// Whether these credentials satisfy a method that requires any one of `required`.
    /// An empty requirement means FULL_ADMIN only, so a method that forgot to declare roles is never open.
    public func allows(anyOf required: [String]) -> Bool {
        if isFullAdmin { return true }
        if required.isEmpty { return false }
        for role in required {
            if role == Role.authenticated || roles.contains(role) { return true }
        }
        return false
    }

    public static let root = Credentials(username: "root", userID: 0, roles: [Role.fullAdmin], mechanism: .internal)
}
