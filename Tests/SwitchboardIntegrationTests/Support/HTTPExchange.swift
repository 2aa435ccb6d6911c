import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SwitchboardCore

/// One HTTP request to the test daemon and its answer, for the REST dialects.
struct HTTPAnswer: Sendable {
    var status: Int
    /// Lowercased names.
    var headers: [String: String]
    var text: String
    var json: JSON? { try? JSON.parse(text) }
}

/// A minimal HTTP/1.1 client on SwiftNIO: one connection per request, the answer read to its end.
/// (Foundation's URLSession on Linux lost a completion now and then in these tests, leaving them hanging.)
enum HTTPExchange {
    /// `https://` URLs are spoken over TLS, trusting the certificates in `trustRoots` (a PEM file).
    static func send(_ method: String, _ url: String, headers: [String: String] = [:], body: String? = nil,
                     trustRoots: String? = nil) async throws -> HTTPAnswer {
        guard let parsed = URLComponents(string: url), let host = parsed.host, let port = parsed.port else {
            throw ScriptFailure(description: "bad URL \(url)")
        }
        let target = parsed.percentEncodedPath + (parsed.percentEncodedQuery.map { "?" + $0 } ?? "")
        var tls: NIOSSLContext?
        if parsed.scheme == "https" {
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let trustRoots { configuration.trustRoots = .file(trustRoots) }
            tls = try NIOSSLContext(configuration: configuration)
        }
        let tlsContext = tls
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tlsContext { try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tlsContext, serverHostname: nil)) }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return try await withThrowingTaskGroup(of: HTTPAnswer?.self) { group in
            group.addTask {
                try await channel.executeThenClose { inbound, outbound in
                    var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: target)
                    head.headers.add(name: "Host", value: "\(host):\(port)")
                    head.headers.add(name: "Connection", value: "close")
                    for (name, value) in headers { head.headers.add(name: name, value: value) }
                    let bytes = body.map { ByteBuffer(string: $0) }
                    if let bytes {
                        head.headers.add(name: "Content-Type", value: "application/json")
                        head.headers.add(name: "Content-Length", value: String(bytes.readableBytes))
                    }
                    try await outbound.write(.head(head))
                    if let bytes { try await outbound.write(.body(.byteBuffer(bytes))) }
                    try await outbound.write(.end(nil))
                    var answer = HTTPAnswer(status: 0, headers: [:], text: "")
                    var collected = ByteBuffer()
                    for try await part in inbound {
                        switch part {
                        case .head(let response):
                            answer.status = Int(response.status.code)
                            for (name, value) in response.headers { answer.headers[name.lowercased()] = value }
                        case .body(var chunk):
                            collected.writeBuffer(&chunk)
                        case .end:
                            answer.text = String(buffer: collected)
                            return answer
                        }
                    }
                    throw ScriptFailure(description: "\(method) \(url): connection closed before the answer ended")
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(15))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let answer = first else {
                throw ScriptFailure(description: "\(method) \(url): no answer within 15 s")
            }
            return answer
        }
    }

    static func basic(_ user: String, _ password: String) -> [String: String] {
        ["Authorization": "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()]
    }
}
