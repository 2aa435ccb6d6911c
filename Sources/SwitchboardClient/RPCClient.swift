import Synchronization
import SwitchboardCore

/// A JSON-RPC 2.0 client of Switchboard (`/api/current`): calls matched to replies by id, and
/// server notifications (`collection_update`, ...) on `notifications`.
///
/// ```swift
/// let client = try await RPCClient.connect(to: .parse("ws://127.0.0.1:5000")!)
/// _ = try await client.call("auth.login", ["root", "secret"])
/// let info = try await client.call("system.info")
/// ```
public final class RPCClient: Sendable {
    public let connection: WebSocketConnection
    public let notifications: AsyncStream<JSON>

    struct State {
        var nextID: Int64 = 0
        var pending: [Int64: CheckedContinuation<JSON, any Error>] = [:]
        var closed = false
    }

    private let state = Mutex(State())
    private let notificationSink: AsyncStream<JSON>.Continuation

    init(connection: WebSocketConnection) {
        self.connection = connection
        (notifications, notificationSink) = AsyncStream<JSON>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
    }

    public static func connect(to target: ConnectionTarget) async throws -> RPCClient {
        let client = RPCClient(connection: try await WebSocketConnection.connect(to: target))
        Task { await client.readLoop() }
        return client
    }

    func readLoop() async {
        // Why the connection ended, told to every call still waiting: the server's close code and reason (a
        // message over its size limit, a terminated session) say more than "closed".
        var ending = ClientError.closed
        do {
            for try await text in connection.frames {
                guard let message = try? JSON.parse(text) else { continue }
                if let id = message["id"]?.intValue, message["method"] == nil {
                    let waiter = state.withLock { $0.pending.removeValue(forKey: id) }
                    waiter?.resume(returning: message)
                } else {
                    notificationSink.yield(message)
                }
            }
        } catch let error as ClientError {
            ending = error
        } catch {}
        let waiters = state.withLock { state in
            state.closed = true
            defer { state.pending.removeAll() }
            return state.pending.values
        }
        for waiter in waiters { waiter.resume(throwing: ending) }
        notificationSink.finish()
    }

    /// Calls a method and returns its result.
    /// - Throws: `ClientError.call` with the server's error, or a connection error.
    public func call(_ method: String, _ params: [JSON] = []) async throws -> JSON {
        let reply = try await request(method, params)
        if let error = reply["error"] {
            throw ClientError.call(code: error["code"]?.intValue ?? 0, message: error["message"]?.stringValue ?? "", data: error["data"] ?? .null)
        }
        return reply["result"] ?? .null
    }

    /// Sends a request and returns the whole reply object.
    public func request(_ method: String, _ params: [JSON] = []) async throws -> JSON {
        let id = state.withLock { state -> Int64 in
            state.nextID += 1
            return state.nextID
        }
        let frame: JSON = ["jsonrpc": "2.0", "id": .int(id), "method": .string(method), "params": .array(params)]
        return try await withCheckedThrowingContinuation { continuation in
            let closed = state.withLock { state -> Bool in
                if state.closed { return true }
                state.pending[id] = continuation
                return false
            }
            if closed {
                continuation.resume(throwing: ClientError.closed)
                return
            }
            Task {
                do {
                    try await connection.send(frame.encodedString())
                } catch {
                    let waiter = state.withLock { $0.pending.removeValue(forKey: id) }
                    waiter?.resume(throwing: error)
                }
            }
        }
    }

    public func close() async {
        await connection.close()
    }
}
