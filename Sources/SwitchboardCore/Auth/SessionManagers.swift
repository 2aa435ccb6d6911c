import Logging
import Synchronization

/// The session managers plugins registered, asked in turn when a connection opens: the first to answer
/// credentials logs the session in (mechanism `SESSION_MANAGER`).
///
/// A manager that takes longer than `timeout` is given up for that connection (and logged), so that a stuck
/// plugin delays a connection by a bounded time and never holds it; the connection goes on unauthenticated.
public final class SessionManagers: Sendable {
    /// How long one manager may take to judge one request.
    public static let timeout: Duration = .seconds(5)

    struct Entry {
        let descriptor: SessionManagerDescriptor
        let plugin: String
    }

    /// What the managers concluded about a request.
    public enum Verdict: Sendable {
        /// No manager recognised it.
        case none
        /// A manager vouched for it.
        case authenticated(Credentials, manager: String)
        /// A manager recognised its proof and refused it.
        case refused(manager: String, reason: String)
    }

    private enum Outcome: Sendable {
        case answered(Credentials?)
        case failed(String)
        case timedOut
    }

    private let entries = Mutex<[Entry]>([])
    let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    /// - Throws: `CallError` EEXIST when the name is taken.
    func register(_ descriptor: SessionManagerDescriptor, plugin: String) throws(CallError) {
        try entries.withLock { entries throws(CallError) in
            guard !entries.contains(where: { $0.descriptor.name == descriptor.name }) else {
                throw CallError(Errno.EEXIST, "Session manager \(descriptor.name) is already registered")
            }
            entries.append(Entry(descriptor: descriptor, plugin: plugin))
        }
    }

    func unregister(_ name: String) {
        entries.withLock { $0.removeAll { $0.descriptor.name == name } }
    }

    /// Whether any manager is registered: without one, opening a connection costs nothing more.
    public var isEmpty: Bool { entries.withLock { $0.isEmpty } }

    /// The managers' names with their plugins, in the order they are asked.
    public var names: [(name: String, plugin: String)] { entries.withLock { $0.map { ($0.descriptor.name, $0.plugin) } } }

    /// Asks each manager in registration order until one answers credentials or refuses.
    public func judge(_ request: UpgradeRequest) async -> Verdict {
        for entry in entries.withLock({ $0 }) {
            let name = entry.descriptor.name
            let answer = OneShot<Outcome>()
            let authenticate = entry.descriptor.authenticate
            let work = Task {
                do { answer.resolve(.answered(try await authenticate(request))) } catch {
                    answer.resolve(.failed((error as? CallError)?.reason ?? String(describing: error)))
                }
            }
            let timer = Task {
                try? await Task.sleep(for: Self.timeout)
                answer.resolve(.timedOut)
            }
            let outcome = await answer.wait() ?? .timedOut
            timer.cancel()
            work.cancel()
            switch outcome {
            case .answered(.some(var credentials)):
                credentials.mechanism = .sessionManager
                return .authenticated(credentials, manager: name)
            case .answered(.none):
                continue
            case .timedOut:
                logger.warning("session manager did not answer in time; asking the next",
                               metadata: ["manager": .string(name), "plugin": .string(entry.plugin), "timeout": .string("\(Self.timeout)")])
                continue
            case .failed(let reason):
                return .refused(manager: name, reason: reason)
            }
        }
        return .none
    }
}
