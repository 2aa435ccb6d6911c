import CoreMetrics
import Synchronization

/// `switchboard_jobs_finished_total{method,state}`: the job manager tells it each of this node's jobs as it ends
/// (`JobManager.onFinished`), which costs the job path nothing when metrics are off. It is not an event handler
/// on `core.get_jobs`: one would make every job event (progress included) be built even with no subscriber.
/// Only methods the registry knows get their own series.
final class JobMetrics: Sendable {
    private let factory: any MetricsFactory
    private let registry: MethodRegistry
    private let counters = Mutex<[String: Counter]>([:])

    init(factory: any MetricsFactory, registry: MethodRegistry) {
        self.factory = factory
        self.registry = registry
    }

    func finished(method: String, state: JobState) {
        counter(method: registry.method(method) != nil ? method : CallMetrics.unknownMethod, state: state.rawValue).increment()
    }

    private func counter(method: String, state: String) -> Counter {
        counters.withLock { table in
            let key = method + " " + state
            if let existing = table[key] { return existing }
            let made = Counter(label: MetricName.jobsFinished, dimensions: [("method", method), ("state", state)], factory: factory)
            table[key] = made
            return made
        }
    }
}
