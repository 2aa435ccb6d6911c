import CoreMetrics
import Synchronization

/// `switchboard_jobs_finished_total{method,state}`: counted from the jobs' own events (a handler on
/// `core.get_jobs`), so the job manager carries no metrics code. Only jobs of this node count (an event relayed
/// from another node is that node's), and only methods the registry knows get their own series.
final class JobMetrics: Sendable {
    private let factory: any MetricsFactory
    private let registry: MethodRegistry
    private let counters = Mutex<[String: Counter]>([:])

    init(factory: any MetricsFactory, registry: MethodRegistry) {
        self.factory = factory
        self.registry = registry
    }

    /// Listens to the job events of `events`; the handler lives as long as the bus.
    func attach(to events: EventBus, nodeName: String) {
        _ = events.addHandler(mask: JobManager.eventName) { [self] event in
            guard event.kind == .changed, let state = event.fields["state"]?.stringValue,
                  JobState(rawValue: state)?.isFinished == true else { return }
            if let node = event.fields["node"]?.stringValue, node != nodeName { return }
            let method = event.fields["method"]?.stringValue ?? ""
            counter(method: registry.method(method) != nil ? method : CallMetrics.unknownMethod, state: state).increment()
        }
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
