import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import SwitchboardCore

/// Where a client connects: a TCP host and port, or a local UNIX socket, plus the HTTP path of the dialect.
public struct ConnectionTarget: Sendable, Equatable, CustomStringConvertible {
    public enum Address: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    /// TLS for a `wss://` target: which certificates to trust.
    public struct TLSOptions: Sendable, Equatable {
        /// A PEM file of trusted certificates (a self-signed daemon's own certificate, say); nil: the system's.
        public var trustRootsFile: String?
        /// Off only for testing against a certificate that cannot be checked.
        public var verifyCertificate = true

        public init(trustRootsFile: String? = nil, verifyCertificate: Bool = true) {
            self.trustRootsFile = trustRootsFile
            self.verifyCertificate = verifyCertificate
        }
    }

    public var address: Address
    public var path: String
    /// nil: plain `ws://`.
    public var tls: TLSOptions?
    /// Extra headers of the upgrade request (a web application's session cookie), sent in name order.
    public var headers: [String: String] = [:]

    public init(_ address: Address, path: String = "/api/current", tls: TLSOptions? = nil, headers: [String: String] = [:]) {
        self.address = address
        self.path = path
        self.tls = tls
        self.headers = headers
    }

    /// Parses `ws://host:port/path`, `wss://...` (TLS), `http://...`, `https://...`, or a socket path
    /// (anything starting with `/` or `.`).
    public static func parse(_ text: String, defaultPath: String = "/api/current") -> ConnectionTarget? {
        if text.hasPrefix("/") || text.hasPrefix(".") {
            return ConnectionTarget(.unix(path: text), path: defaultPath)
        }
        var rest = Substring(text)
        var tls: TLSOptions?
        for scheme in ["wss://", "https://"] where rest.hasPrefix(scheme) {
            rest = rest.dropFirst(scheme.count)
            tls = TLSOptions()
        }
        for scheme in ["ws://", "http://"] where rest.hasPrefix(scheme) { rest = rest.dropFirst(scheme.count) }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let hostPort = rest[..<slash]
        let path = slash == rest.endIndex ? defaultPath : String(rest[slash...])
        let host: Substring
        var port = 5000
        if hostPort.hasPrefix("["), let close = hostPort.firstIndex(of: "]") {
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") { guard let p = Int(after.dropFirst()) else { return nil }; port = p }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = hostPort[..<colon]
            guard let p = Int(hostPort[hostPort.index(after: colon)...]) else { return nil }
            port = p
        } else {
            host = hostPort
        }
        guard !host.isEmpty else { return nil }
        return ConnectionTarget(.tcp(host: String(host), port: port), path: path, tls: tls)
    }

    /// The TLS server name (SNI) for `host`: names only, never addresses; an address is checked against the
    /// certificate's IP entries.
    static func serverName(_ host: String) -> String? {
        host.contains(":") || host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : host
    }

    public var description: String {
        switch address {
        case .tcp(let host, let port): return "\(tls == nil ? "ws" : "wss")://\(host):\(port)\(path)"
        case .unix(let socket): return "unix:\(socket)\(path)"
        }
    }
}

public enum ClientError: Error, Sendable, CustomStringConvertible {
    case connectionFailed(String)
    case upgradeRefused
    case closed
    /// The server closed the connection with a code other than 1000, and why.
    case closedByServer(code: UInt16, reason: String)
    case protocolViolation(String)
    /// The server answered the call with an error.
    case call(code: Int64, message: String, data: JSON)

    public var description: String {
        switch self {
        case .connectionFailed(let why): return "cannot connect: \(why)"
        case .upgradeRefused: return "the server refused the WebSocket upgrade"
        case .closed: return "the connection is closed"
        case .closedByServer(let code, let reason):
            return "the server closed the connection (\(code)\(reason.isEmpty ? "" : ": " + reason))"
        case .protocolViolation(let why): return "protocol violation: \(why)"
        case .call(let code, let message, let data):
            if let reason = data["reason"]?.stringValue { return reason }
            return "\(message) (\(code))"
        }
    }
}

/// A client WebSocket over SwiftNIO that speaks text frames: used by the CLI, the tests and the benchmarks.
public final class WebSocketConnection: Sendable {
    enum UpgradeResult: Sendable {
        case websocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
        case notUpgraded
    }

    let channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>
    let outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>
    /// Every text frame received, in order.
    public let frames: AsyncThrowingStream<String, any Error>

    init(channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>,
         frames: AsyncThrowingStream<String, any Error>) {
        self.channel = channel
        self.outbound = outbound
        self.frames = frames
    }

    /// Opens a connection and starts reading; frames arrive on `frames`.
    public static func connect(
        to target: ConnectionTarget, maxFrameSize: Int = 1 << 24, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> WebSocketConnection {
        let host: String
        switch target.address {
        case .tcp(let h, _): host = h
        case .unix: host = "localhost"
        }
        let path = target.path
        let tlsContext = try target.tls.map { try Self.makeTLSContext($0) }
        let sniHost = ConnectionTarget.serverName(host)
        let initializer: @Sendable (any Channel) -> EventLoopFuture<EventLoopFuture<UpgradeResult>> = { channel in
            channel.eventLoop.makeCompletedFuture {
                if let tlsContext {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tlsContext, serverHostname: sniHost))
                }
                let upgrader = NIOTypedWebSocketClientUpgrader<UpgradeResult>(maxFrameSize: maxFrameSize) { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOWebSocketFrameAggregator(
                            minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1 << 16, maxAccumulatedFrameSize: maxFrameSize))
                        return UpgradeResult.websocket(try NIOAsyncChannel(wrappingChannelSynchronously: channel))
                    }
                }
                var headers = HTTPHeaders()
                headers.add(name: "Host", value: host)
                headers.add(name: "Content-Length", value: "0")
                for (name, value) in target.headers.sorted(by: { $0.key < $1.key }) { headers.add(name: name, value: value) }
                let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
                let configuration = NIOTypedHTTPClientUpgradeConfiguration(
                    upgradeRequestHead: head, upgraders: [upgrader],
                    notUpgradingCompletionHandler: { channel in channel.eventLoop.makeCompletedFuture { .notUpgraded } })
                return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                    configuration: .init(upgradeConfiguration: configuration))
            }
        }
        let upgrade: EventLoopFuture<UpgradeResult>
        do {
            let bootstrap = ClientBootstrap(group: group).connectTimeout(.seconds(10))
            switch target.address {
            case .tcp(let host, let port):
                upgrade = try await bootstrap.connect(host: host, port: port, channelInitializer: initializer)
            case .unix(let socket):
                upgrade = try await bootstrap.connect(unixDomainSocketPath: socket, channelInitializer: initializer)
            }
        } catch {
            throw ClientError.connectionFailed("\(target): \(Self.explain(error, target: target))")
        }
        let upgraded: UpgradeResult
        do {
            upgraded = try await upgrade.get()
        } catch {
            throw ClientError.connectionFailed("\(target): \(Self.explain(error, target: target))")
        }
        guard case .websocket(let channel) = upgraded else { throw ClientError.upgradeRefused }

        let (frames, continuation) = AsyncThrowingStream<String, any Error>.makeStream()
        let (outboundStream, outboundContinuation) = AsyncStream<NIOAsyncChannelOutboundWriter<WebSocketFrame>>.makeStream()
        Task {
            do {
                try await channel.executeThenClose { inbound, outbound in
                    outboundContinuation.yield(outbound)
                    outboundContinuation.finish()
                    for try await frame in inbound {
                        switch frame.opcode {
                        case .text, .binary:
                            continuation.yield(String(buffer: frame.data))
                        case .ping:
                            try await outbound.write(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.data))
                        case .connectionClose:
                            var data = frame.unmaskedData
                            let code = data.readInteger(as: UInt16.self) ?? 1005
                            let reason = data.readString(length: data.readableBytes) ?? ""
                            if code == 1000 || code == 1005 {
                                continuation.finish()
                            } else {
                                continuation.finish(throwing: ClientError.closedByServer(code: code, reason: reason))
                            }
                            return
                        default:
                            break
                        }
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
            outboundContinuation.finish()
        }
        var iterator = outboundStream.makeAsyncIterator()
        guard let outbound = await iterator.next() else { throw ClientError.closed }
        return WebSocketConnection(channel: channel, outbound: outbound, frames: frames)
    }

    /// A failed connection or upgrade in a user's words: what went wrong and what to try. The errors of NIO and
    /// BoringSSL name system calls, states and source paths of the build.
    static func explain(_ error: any Error, target: ConnectionTarget) -> String {
        let text = "\(error)"
        if target.tls != nil {
            if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate verify failed") {
                return "TLS handshake failed: the server's certificate is not trusted (give its certificate or CA with --cacert FILE)"
            }
            if text.contains("WRONG_VERSION_NUMBER") || text.contains("wrong version number") {
                return "TLS handshake failed: the server does not speak TLS on this port (use ws://)"
            }
            if error is NIOSSLError || error is BoringSSLError {
                return "TLS handshake failed (\(text.split(separator: "\n").first.map(String.init) ?? text))"
            }
        }
        if let error = error as? IOError {
            return String(cString: strerror(error.errnoCode))
                + (error.errnoCode == ENOENT ? " (no daemon listens there)" : "")
        }
        if let error = error as? ChannelError, case .connectTimeout = error { return "no answer within 10 seconds" }
        if error is ChannelError || error is NIOSSLError {
            return "the server closed the connection before it answered the WebSocket upgrade"
                + (target.tls == nil ? " (if it serves TLS, use wss://)" : "")
        }
        return text
    }

    static func makeTLSContext(_ options: ConnectionTarget.TLSOptions) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let file = options.trustRootsFile { configuration.trustRoots = .file(file) }
        if !options.verifyCertificate { configuration.certificateVerification = .none }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ClientError.connectionFailed("TLS: \(error)")
        }
    }

    /// Sends one text frame (masked, as clients must).
    public func send(_ text: String) async throws {
        try await outbound.write(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: ByteBuffer(string: text)))
    }

    /// Sends one binary frame.
    public func sendBinary(_ bytes: [UInt8]) async throws {
        try await outbound.write(WebSocketFrame(fin: true, opcode: .binary, maskKey: .random(), data: ByteBuffer(bytes: bytes)))
    }

    /// Sends a close frame and finishes writing.
    public func close() async {
        var data = ByteBuffer()
        data.write(webSocketErrorCode: .normalClosure)
        try? await outbound.write(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data))
        outbound.finish()
    }
}
