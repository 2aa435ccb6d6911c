import MetricsTestKit
import Testing
@testable import SwitchboardCore

/// What `CallMetrics` records, read through swift-metrics' test factory.
@Suite struct CallMetricsTests {
    @Test func eachCallIsCountedUnderItsMethodDialectAndResult() throws {
        let metrics = TestMetrics()
        let registry = MethodRegistry()
        try registry.register(MethodDescriptor("svc.known", returns: true) { _, _ in true })
        let calls = CallMetrics(factory: metrics, registry: registry)
        calls.record(method: "svc.known", dialect: "jsonrpc", error: nil, duration: .milliseconds(3))
        calls.record(method: "svc.known", dialect: "jsonrpc", error: nil, duration: .milliseconds(5))
        calls.record(method: "svc.known", dialect: "ddp", error: CallError.notAuthorized, duration: .zero)
        calls.record(method: "svc.known", dialect: "rest", error: CallError.validation("x", "bad"), duration: .zero)
        calls.record(method: "svc.known", dialect: "rest", error: CallError(Errno.ESHUTDOWN, "stopping"), duration: .zero)
        calls.record(method: "svc.known", dialect: "rest", error: CallError(Errno.ENOENT, "no such row"), duration: .zero)

        #expect(try metrics.expectCounter(MetricName.calls, [("method", "svc.known"), ("dialect", "jsonrpc"), ("result", "ok")]).totalValue == 2)
        #expect(try metrics.expectCounter(MetricName.calls, [("method", "svc.known"), ("dialect", "ddp"), ("result", "not_authorized")]).totalValue == 1)
        #expect(try metrics.expectCounter(MetricName.calls, [("method", "svc.known"), ("dialect", "rest"), ("result", "invalid_params")]).totalValue == 1)
        #expect(try metrics.expectCounter(MetricName.calls, [("method", "svc.known"), ("dialect", "rest"), ("result", "shutting_down")]).totalValue == 1)
        #expect(try metrics.expectCounter(MetricName.calls, [("method", "svc.known"), ("dialect", "rest"), ("result", "error")]).totalValue == 1)
        let timer = try metrics.expectTimer(MetricName.callDuration, [("method", "svc.known")])
        #expect(timer.values.prefix(2) == [3_000_000, 5_000_000])
        #expect(timer.values.count == 6)
    }

    /// Names the registry does not know share one series: a client cannot grow the table.
    @Test func unknownNamesShareOneSeries() throws {
        let metrics = TestMetrics()
        let calls = CallMetrics(factory: metrics, registry: MethodRegistry())
        for index in 0..<100 {
            calls.record(method: "made.up\(index)", dialect: "jsonrpc", error: CallError.methodNotFound("made.up\(index)"), duration: .zero)
        }
        let counters = metrics.counters(label: MetricName.calls)
        #expect(counters.count == 1)
        #expect(try metrics.expectCounter(MetricName.calls, [("method", CallMetrics.unknownMethod), ("dialect", "jsonrpc"),
                                                             ("result", "method_not_found")]).totalValue == 100)
        #expect(metrics.timers.count == 1)
    }
}
