/// A plugin's way to authenticate a connection from the HTTP request that opened it, before its first message
/// (Zephserver's session manager, which found the Django user behind a session cookie). The built-in logins
/// stay available: a connection no session manager recognises logs in as usual.
///
///     try context.register(SessionManagerDescriptor("webapp-cookie") { request in
///         guard let cookie = request.cookies["sessionid"] else { return nil }
///         return try await lookUp(cookie)   // the user's Credentials, or nil when the cookie is not known
///     })
public struct SessionManagerDescriptor: Sendable {
    /// Answers the credentials of the user the request belongs to, or nil when the request is not this
    /// manager's to judge. Throwing means the request carried this manager's proof and it was wrong (an
    /// expired or forged cookie): the connection stays unauthenticated, and the failure counts toward its
    /// address's login lockout.
    public typealias Authenticate = @Sendable (UpgradeRequest) async throws -> Credentials?

    public var name: String
    public var description: String
    public var authenticate: Authenticate

    public init(_ name: String, description: String = "", authenticate: @escaping Authenticate) {
        self.name = name
        self.description = description
        self.authenticate = authenticate
    }
}
