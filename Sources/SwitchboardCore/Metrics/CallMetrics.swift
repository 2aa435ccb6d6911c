import CoreMetrics
import Synchronization

/// The calls' metrics: a counter per method, dialect and result, and a latency histogram per method, made
/// through swift-metrics' API with the factory the daemon hands in (Prometheus's, in the server), so Core names
/// no backend.
///
/// Label values come only from the registry and the code, never from what a client sends: a method the registry
/// does not know is counted as `(unknown)`, the dialect is the connection's (`jsonrpc`, `ddp`, `envelope`, `rest`,
/// `internal`), the result a fixed word per error kind. The series are bounded by the methods ever registered.
/// Each series' handles are made once and kept; a call costs one lock and one lookup to find them, one atomic add
/// and one histogram update.
public final class CallMetrics: Sendable {
    /// The words of the `result` label.
    public enum Outcome: String, Sendable, CaseIterable {
        case ok, error
        case invalidParams = "invalid_params", methodNotFound = "method_not_found"
        case notAuthenticated = "not_authenticated", notAuthorized = "not_authorized"
        case tooManyCalls = "too_many_calls", `internal`
        case refused = "shutting_down"

        init(_ error: CallError?) {
            guard let error else {
                self = .ok
                return
            }
            switch error.kind {
            case .methodNotFound: self = .methodNotFound
            case .invalidParams: self = .invalidParams
            case .notAuthenticated: self = .notAuthenticated
            case .notAuthorized: self = .notAuthorized
            case .tooManyConcurrentCalls: self = .tooManyCalls
            case .internal: self = .internal
            case .call: self = error.errno == Errno.ESHUTDOWN ? .refused : .error
            }
        }
    }

    /// The method label of a name the registry does not know.
    public static let unknownMethod = "(unknown)"

    struct Key: Hashable {
        let method: String
        let dialect: String
        let outcome: Outcome
    }

    struct Series: Sendable {
        let calls: Counter
        let duration: Timer
    }

    private let factory: any MetricsFactory
    private let registry: MethodRegistry
    private let series = Mutex<[Key: Series]>([:])

    public init(factory: any MetricsFactory, registry: MethodRegistry) {
        self.factory = factory
        self.registry = registry
    }

    /// Records one finished call of `method` (as the client named it) on a `dialect` session.
    public func record(method: String, dialect: String, error: CallError?, duration: Duration) {
        let outcome = Outcome(error)
        let found = series.withLock { $0[Key(method: method, dialect: dialect, outcome: outcome)] }
        let handles = found ?? make(method: method, dialect: dialect, outcome: outcome)
        handles.calls.increment()
        handles.duration.recordNanoseconds(duration.nanoseconds)
    }

    /// The handles of a series seen for the first time. A name the registry does not know gets the shared
    /// `(unknown)` series and is not remembered under its own name, so client input cannot grow the table.
    private func make(method: String, dialect: String, outcome: Outcome) -> Series {
        let known = registry.method(method) != nil
        let label = known ? method : Self.unknownMethod
        let key = Key(method: label, dialect: dialect, outcome: outcome)
        return series.withLock { table in
            if let existing = table[key] { return existing }
            let made = Series(
                calls: Counter(label: MetricName.calls, dimensions: [("method", label), ("dialect", dialect), ("result", outcome.rawValue)],
                               factory: factory),
                duration: Timer(label: MetricName.callDuration, dimensions: [("method", label)], factory: factory))
            table[key] = made
            return made
        }
    }
}
