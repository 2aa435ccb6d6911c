import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging

/// What a plain Hummingbird application does: decode a JSON-RPC request into a Codable struct with
/// Foundation's JSONDecoder and answer `{"jsonrpc":"2.0","id":<id>,"result":"pong"}` with JSONEncoder.
/// `rpc` reports its figures as ratios of this one's, measured the same way in the same run.
enum BaselineServer {
    struct Request: Decodable {
        enum ID: Codable {
            case int(Int64)
            case string(String)

            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let value = try? container.decode(Int64.self) { self = .int(value) } else { self = .string(try container.decode(String.self)) }
            }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.singleValueContainer()
                switch self {
                case .int(let value): try container.encode(value)
                case .string(let value): try container.encode(value)
                }
            }
        }

        var jsonrpc: String
        var id: ID?
        var method: String
    }

    struct Reply: Encodable {
        var jsonrpc = "2.0"
        var id: Request.ID?
        var result: String
    }

    static func run(port: Int) async throws {
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.get("/health") { _, _ in "ok" }
        router.ws("/api/current") { inbound, outbound, _ in
            let decoder = JSONDecoder()
            let encoder = JSONEncoder()
            for try await message in inbound.messages(maxSize: 1 << 20) {
                guard case .text(let text) = message, let request = try? decoder.decode(Request.self, from: Data(text.utf8)) else { continue }
                let reply = try encoder.encode(Reply(id: request.id, result: request.method == "auth.login_with_token" ? "true" : "pong"))
                try await outbound.write(.text(String(decoding: reply, as: UTF8.self)))
            }
        }
        var logger = Logger(label: "baseline")
        logger.logLevel = .error
        let app = Application(
            router: router,
            server: .http1WebSocketUpgrade(webSocketRouter: router, configuration: .init(maxFrameSize: 1 << 20, autoPing: .disabled)),
            configuration: .init(address: .hostname("127.0.0.1", port: port)),
            logger: logger)
        try await app.runService()
    }
}
