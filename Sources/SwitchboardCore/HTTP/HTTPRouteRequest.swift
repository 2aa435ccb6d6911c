/// What a plugin's HTTP route receives: the request, whole, and the session it was authenticated as.
public struct HTTPRouteRequest: Sendable {
    public var method: String
    public var path: String
    /// The query string without `?`, empty when there is none.
    public var query: String
    /// Header names in lowercase.
    public var headers: [String: String]
    /// At most `dispatcher.max-message-size` bytes.
    public var body: [UInt8]
    public var session: Session

    public init(method: String, path: String, query: String, headers: [String: String], body: [UInt8], session: Session) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.session = session
    }
}
