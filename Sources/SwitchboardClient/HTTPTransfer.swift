import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SwitchboardCore

/// middlewared's file transfer from the client's side, over the same target (TCP, TLS or the local socket) a
/// `ConnectionTarget` names: `POST /_upload` streamed from a file with a known length, and `GET` of a
/// `core.download` URL streamed into a file. Neither holds the file in memory: each waits for the socket before
/// reading more.
public enum HTTPTransfer {
    /// One chunk read from or written to the file.
    static let chunkSize = 1 << 18

    /// Uploads `file` as the `file` part of a call of `method`, logged in with `token` (`?auth_token=`).
    /// - Returns: the job id the daemon answered.
    /// - Throws: `ClientError.call` with the daemon's errno and reason when it refuses.
    public static func upload(to target: ConnectionTarget, token: String?, method: String, params: [JSON], file: String) async throws -> Int64 {
        guard let handle = FileHandle(forReadingAtPath: file) else { throw ClientError.connectionFailed("cannot read \(file)") }
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: 0)
        let boundary = "switchboard-" + UUID().uuidString
        let data = (["method": .string(method), "params": .array(params)] as JSON).encodedString()
        let name = (file as NSString).lastPathComponent.replacingOccurrences(of: "\"", with: "_")
        let head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n\(data)\r\n"
            + "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(name)\"\r\n"
            + "Content-Type: application/octet-stream\r\n\r\n"
        let tail = "\r\n--\(boundary)--\r\n"
        let length = UInt64(head.utf8.count) + size + UInt64(tail.utf8.count)
        let path = TransferPaths.upload + (token.map { "?auth_token=\($0)" } ?? "")
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
        headers.add(name: "Content-Length", value: String(length))
        let (status, body) = try await exchange(target, method: .POST, path: path, headers: headers) { outbound in
            try await outbound.write(.body(.byteBuffer(ByteBuffer(string: head))))
            while let chunk = try handle.read(upToCount: chunkSize), !chunk.isEmpty {
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: chunk))))
            }
            try await outbound.write(.body(.byteBuffer(ByteBuffer(string: tail))))
        } response: { status, inbound in
            try await collect(&inbound, status: status)
        }
        guard status == .ok, let job = body["job_id"]?.intValue else { throw refusal(status, body) }
        return job
    }

    /// Fetches `path` (a `core.download` URL) into `file`, replacing it only once the download is whole.
    /// - Returns: the bytes written.
    public static func download(from target: ConnectionTarget, path: String, to file: String) async throws -> Int64 {
        let partial = file + ".part"
        guard FileManager.default.createFile(atPath: partial, contents: nil), let handle = FileHandle(forWritingAtPath: partial) else {
            throw ClientError.connectionFailed("cannot write \(partial)")
        }
        var done = false
        defer {
            try? handle.close()
            if !done { try? FileManager.default.removeItem(atPath: partial) }
        }
        let (status, written, refusalBody) = try await exchange(target, method: .GET, path: path, headers: HTTPHeaders()) { _ in
        } response: { status, inbound -> (HTTPResponseStatus, Int64, JSON) in
            guard status == .ok else {
                let (_, body) = try await collect(&inbound, status: status)
                return (status, 0, body)
            }
            var written: Int64 = 0
            var ended = false
            while let part = try await inbound.next() {
                switch part {
                case .body(let buffer):
                    try handle.write(contentsOf: Data(buffer.readableBytesView))
                    written += Int64(buffer.readableBytes)
                case .end:
                    ended = true
                case .head:
                    break
                }
                if ended { break }
            }
            // A daemon whose job failed mid-way breaks the connection without the last chunk.
            guard ended else { throw ClientError.connectionFailed("the download broke off after \(written) bytes: its job failed (see core.get_jobs)") }
            return (status, written, .null)
        }
        guard status == .ok else { throw refusal(status, refusalBody) }
        try handle.synchronize()
        guard rename(partial, file) == 0 else { throw ClientError.connectionFailed("cannot rename \(partial) to \(file): \(String(cString: strerror(errno)))") }
        done = true
        return written
    }

    typealias Inbound = NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
    typealias Outbound = NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>

    /// One request on a connection of its own: the head, what `send` writes, the end; then `response` reads the
    /// answer after its head. A daemon that refuses before the body is sent (401, 413) closes the connection:
    /// its answer is still read and returned rather than the failed write.
    static func exchange<Result: Sendable>(
        _ target: ConnectionTarget, method: HTTPMethod, path: String, headers: HTTPHeaders,
        send: (Outbound) async throws -> Void,
        response: (HTTPResponseStatus, inout Inbound) async throws -> Result
    ) async throws -> Result {
        let host: String
        switch target.address {
        case .tcp(let h, _): host = h
        case .unix: host = "localhost"
        }
        let tlsContext = try target.tls.map { try WebSocketConnection.makeTLSContext($0) }
        let serverName = ConnectionTarget.serverName(host)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>> = { channel in
            channel.eventLoop.makeCompletedFuture {
                if let tlsContext {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tlsContext, serverHostname: serverName))
                }
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                return try NIOAsyncChannel(wrappingChannelSynchronously: channel)
            }
        }
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connectTimeout(.seconds(10))
            switch target.address {
            case .tcp(let host, let port): channel = try await bootstrap.connect(host: host, port: port, channelInitializer: initializer)
            case .unix(let socket): channel = try await bootstrap.connect(unixDomainSocketPath: socket, channelInitializer: initializer)
            }
        } catch {
            throw ClientError.connectionFailed("\(target): \(WebSocketConnection.explain(error, target: target))")
        }
        return try await channel.executeThenClose { inbound, outbound in
            var fields = headers
            fields.replaceOrAdd(name: "Host", value: host)
            var sendError: (any Error)?
            do {
                try await outbound.write(.head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: fields)))
                try await send(outbound)
                try await outbound.write(.end(nil))
            } catch {
                sendError = error
            }
            var iterator = inbound.makeAsyncIterator()
            let head: HTTPResponseHead
            do {
                guard case .head(let first)? = try await iterator.next() else { throw sendError ?? ClientError.closed }
                head = first
            } catch {
                throw sendError ?? error
            }
            return try await response(head.status, &iterator)
        }
    }

    /// The rest of a small answer (an error or `{"job_id"}`), as JSON.
    static func collect(_ inbound: inout Inbound, status: HTTPResponseStatus) async throws -> (HTTPResponseStatus, JSON) {
        var bytes: [UInt8] = []
        while let part = try await inbound.next() {
            switch part {
            case .body(let buffer):
                guard bytes.count + buffer.readableBytes <= 1 << 20 else { throw ClientError.protocolViolation("an answer over 1 MiB") }
                bytes += buffer.readableBytesView
            case .end: return (status, (try? JSON.parse(bytes: bytes)) ?? .string(String(decoding: bytes, as: UTF8.self)))
            case .head: break
            }
        }
        return (status, (try? JSON.parse(bytes: bytes)) ?? .null)
    }

    static func refusal(_ status: HTTPResponseStatus, _ body: JSON) -> ClientError {
        let errno = body["errno"]?.intValue ?? Int64(status.code)
        let reason = body["reason"]?.stringValue ?? "HTTP \(status.code) \(status.reasonPhrase)"
        return .call(code: errno, message: reason, data: body)
    }
}
