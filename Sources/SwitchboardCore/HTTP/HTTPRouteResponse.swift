/// A plugin HTTP route's answer.
public struct HTTPRouteResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int = 200, contentType: String = "application/octet-stream", headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        var headers = headers
        headers["Content-Type"] = headers["Content-Type"] ?? contentType
        self.headers = headers
        self.body = body
    }
}
