import Foundation
import Prometheus
import Synchronization
import SwitchboardCore

/// What `GET /metrics` serves: one daemon's Prometheus registry, in which the calls, jobs and datastore record
/// as they happen (through `PrometheusFactory`), brought up to date with what is read only when scraped
/// (connections, sessions, live jobs, workers, plugins, the event and outbound counters, the process).
///
/// Every label value comes from the code or the registry: dialects, states, and names of methods, workers and
/// plugins that are or were loaded. A gauge whose label set disappears (a dialect with no connection left) is
/// set to 0 rather than dropped, so the series count only grows with what was ever registered.
final class MetricsExport: Sendable {
    let registry = PrometheusCollectorRegistry()
    var factory: PrometheusFactory { PrometheusFactory(registry: registry) }

    struct Scraped {
        /// The traffic totals at the last scrape: Prometheus counters only go up, by the difference.
        var published = 0, delivered = 0, overflows = 0, dropped = 0
        /// Every label set a scrape-time gauge has had, so one that is gone reads 0.
        var seen: [String: Set<[String]>] = [:]
    }

    private let scraped = Mutex(Scraped())

    /// The text exposition format, version 0.0.4.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    func render(runtime: Runtime, plugins: [JSON]) -> [UInt8] {
        var connections: [[String]: Int] = Dictionary(uniqueKeysWithValues: DialectName.all.map { ([$0], 0) })
        for (dialect, count) in runtime.sessions.clientsByDialect { connections[[dialect]] = count }
        var authenticated: [[String]: Int] = [["true"]: 0, ["false"]: 0]
        for session in runtime.sessions.sessions where session.origin != .internal {
            authenticated[[session.isAuthenticated ? "true" : "false"], default: 0] += 1
        }
        var jobs: [[String]: Int] = [:]
        for count in runtime.jobs.liveCountsByMethod {
            let method = runtime.registry.method(count.method) != nil ? count.method : CallMetrics.unknownMethod
            jobs[[method, count.state], default: 0] += count.count
        }
        var workers: [[String]: Int] = Dictionary(uniqueKeysWithValues: WorkerState.allCases.map { ([$0.rawValue], 0) })
        var restarts: [[String]: Int] = [:]
        for worker in runtime.workers.all {
            workers[[worker.state.rawValue], default: 0] += 1
            restarts[[worker.name, worker.plugin]] = worker.restarts
        }
        var pluginStates: [[String]: Int] = [:]
        for plugin in plugins { pluginStates[[plugin["state"]?.stringValue ?? "unknown"], default: 0] += 1 }
        let traffic = runtime.events.counters

        scraped.withLock { scraped in
            set(MetricName.connections, ["dialect"], connections, &scraped)
            set(MetricName.sessions, ["authenticated"], authenticated, &scraped)
            set(MetricName.jobs, ["method", "state"], jobs, &scraped)
            set(MetricName.workers, ["state"], workers, &scraped)
            set(MetricName.workerRestarts, ["worker", "plugin"], restarts, &scraped)
            set(MetricName.plugins, ["state"], pluginStates, &scraped)
            advance(MetricName.eventsPublished, to: traffic.eventsPublished, from: &scraped.published)
            advance(MetricName.eventsDelivered, to: traffic.eventsDelivered, from: &scraped.delivered)
            advance(MetricName.slowConsumersClosed, to: traffic.slowConsumersClosed, from: &scraped.overflows)
            advance(MetricName.outboundDropped, to: traffic.outboundDropped, from: &scraped.dropped)
        }
        if let memory = ProcessFacts.memory { gauge(MetricName.residentMemory).set(Int64(memory.resident)) }
        if let files = ProcessFacts.openFiles { gauge(MetricName.openFiles).set(Int64(files)) }
        gauge(MetricName.maxFiles).set(Int64(ProcessFacts.openFileLimit))
        let uptime = runtime.startedAt.duration(to: .now)
        gauge(MetricName.uptime).set(uptime.inSeconds)
        return registry.emitToBuffer()
    }

    private func gauge(_ name: String, _ labels: [(String, String)] = []) -> Prometheus.Gauge {
        registry.makeGauge(name: name, labels: labels, help: MetricName.help[name] ?? "")
    }

    /// Sets a labelled gauge family to `values`; label sets seen before and absent now read 0.
    private func set(_ name: String, _ labelNames: [String], _ values: [[String]: Int], _ scraped: inout Scraped) {
        var seen = scraped.seen[name] ?? []
        seen.formUnion(values.keys)
        for labels in seen {
            gauge(name, Array(zip(labelNames, labels))).set(Int64(values[labels] ?? 0))
        }
        scraped.seen[name] = seen
    }

    private func advance(_ name: String, to total: Int, from last: inout Int) {
        let counter = registry.makeCounter(name: name, labels: [], help: MetricName.help[name] ?? "")
        if total > last { counter.increment(by: Int64(total - last)) }
        last = max(last, total)
    }
}
