import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore
import SwitchboardServer

/// Issue 21, item 3: `/metrics` counts what happens, with labels from the registry only, and lets in whom the
/// `metrics` section says. (prometheus_client's parser reads it in ThirdPartyClientTests.prometheusTextParses.)
@Suite(.serialized) struct MetricsTests {
    static func scrape(_ daemon: TestDaemon, headers: [String: String] = [:]) async throws -> HTTPAnswer {
        try await HTTPExchange.send("GET", "http://127.0.0.1:\(daemon.port)/metrics", headers: headers)
    }

    /// The value of one sample line (`name{labels} value`), or nil when the series is not there.
    static func sample(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test func countersMoveWithTheCallsAndLabelsComeFromTheRegistry() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        let before = try await Self.scrape(daemon)
        #expect(before.status == 200 && before.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
        let pings = #"switchboard_calls_total{method="core.ping",dialect="jsonrpc",result="ok"}"#
        let invalid = #"switchboard_calls_total{method="core.get_methods",dialect="jsonrpc",result="invalid_params"}"#
        let unknown = #"switchboard_calls_total{method="(unknown)",dialect="jsonrpc",result="method_not_found"}"#
        let refused = #"switchboard_calls_total{method="core.noop_job",dialect="jsonrpc",result="not_authorized"}"#
        let finished = #"switchboard_jobs_finished_total{method="core.noop_job",state="SUCCESS"}"#
        let pingsBefore = Self.sample(before.text, pings) ?? 0
        for _ in 0..<3 { _ = try await root.call("core.ping") }
        _ = try await root.request("core.get_methods", [5])
        for index in 0..<20 { _ = try await root.request("client.invented_\(index)") }
        _ = try await root.call("core.noop_job")
        let reader = try await daemon.client(as: "reader", roles: [Role.readonlyAdmin])
        _ = try await reader.request("core.noop_job")

        let after = try await eventuallyValue("the job counted") { () async throws -> HTTPAnswer? in
            let answer = try await Self.scrape(daemon)
            return Self.sample(answer.text, finished) == 1 ? answer : nil
        }
        #expect(Self.sample(after.text, pings) == pingsBefore + 3)
        #expect(Self.sample(after.text, invalid) == 1)
        #expect(Self.sample(after.text, unknown) == 20)
        #expect(Self.sample(after.text, refused) == 1)
        #expect(!after.text.contains("client.invented"), "a name a client made up became a label")
        #expect(Self.sample(after.text, #"switchboard_call_duration_seconds_count{method="core.ping"}"#) == pingsBefore + 3)
        // Two connections are open: root's and reader's, both logged in.
        #expect(Self.sample(after.text, #"switchboard_connections{dialect="jsonrpc"}"#) == 2)
        #expect(Self.sample(after.text, #"switchboard_connections{dialect="ddp"}"#) == 0)
        #expect(Self.sample(after.text, #"switchboard_sessions{authenticated="true"}"#) == 2)
        #expect((Self.sample(after.text, #"switchboard_datastore_duration_seconds_count{operation="commit"}"#) ?? 0) > 0)
        #expect((Self.sample(after.text, "process_resident_memory_bytes") ?? 0) > 1_000_000)
        #expect((Self.sample(after.text, "process_open_fds") ?? 0) > 3)

        // A connection that goes away leaves its dialect's gauge at 0, not gone.
        await reader.close()
        try await eventually("the reader's connection counted out") {
            Self.sample(try await Self.scrape(daemon).text, #"switchboard_connections{dialect="jsonrpc"}"#) == 1
        }
        await root.close()
        await daemon.stop()
    }

    @Test func eventsPublishedAndDeliveredAreCounted() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        let published = "switchboard_events_published_total", delivered = "switchboard_events_delivered_total"
        let before = try await Self.scrape(daemon).text
        _ = try await root.call("core.subscribe", ["test.fanout"])
        _ = try await root.call("test.emit", [4])
        try await eventually("four more events published and delivered") {
            let text = try await Self.scrape(daemon).text
            return (Self.sample(text, published) ?? 0) >= (Self.sample(before, published) ?? 0) + 4
                && Self.sample(text, delivered) == (Self.sample(before, delivered) ?? 0) + 4
        }
        await root.close()
        await daemon.stop()
    }

    /// Not public: a user with the role, or the scraper's token; anyone else is told why.
    @Test func accessFollowsTheMetricsSection() async throws {
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-token-\(UUID().uuidString.prefix(8))").path
        try "scraper-token-0123456789\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: tokenFile) }
        let daemon = try await TestDaemon.start { configuration in
            try? configuration.apply(["metrics": ["public": false, "bearer-token-file": .string(tokenFile)]])
        }
        await (try daemon.client(as: "reader", roles: [Role.readonlyAdmin])).close()
        await (try daemon.client(as: "nobody", roles: [])).close()

        let anonymous = try await Self.scrape(daemon)
        #expect(anonymous.status == 401 && anonymous.headers["www-authenticate"]?.hasPrefix("Basic") == true)
        #expect(anonymous.json?["errname"] == "ENOTAUTHENTICATED")
        let nobody = try await Self.scrape(daemon, headers: HTTPExchange.basic("nobody", "pa55word"))
        #expect(nobody.status == 403 && nobody.json?["reason"] == "Metrics need the role READONLY_ADMIN (metrics.role)")
        #expect(try await Self.scrape(daemon, headers: HTTPExchange.basic("reader", "pa55word")).status == 200)
        #expect(try await Self.scrape(daemon, headers: ["Authorization": "Bearer scraper-token-0123456789"]).status == 200)
        let wrong = try await Self.scrape(daemon, headers: ["Authorization": "Bearer scraper-token-0123456788"])
        #expect(wrong.status == 401, "a wrong token is tried as a login token, and fails")
        await daemon.stop()
    }

    /// Off: the path is not served (and `Runtime.callMetrics` is nil, so calls cost no lookup).
    @Test func metricsOffServeNothingAndCountNothing() async throws {
        let daemon = try await TestDaemon.start { $0.metrics.enabled = false }
        #expect(try await Self.scrape(daemon).status == 404)
        await daemon.stop()
    }

    @Test func badMetricsSettingsAreRefusedByPath() throws {
        func refusal(_ section: JSON) -> String? {
            var configuration = DaemonConfiguration(stateDir: "/tmp/x")
            do {
                try configuration.apply(["metrics": section])
                return nil
            } catch let error as ConfigurationError {
                return "\(error.path): \(error.reason)"
            } catch {
                return "\(error)"
            }
        }
        #expect(refusal(["enabled": "yes"]) == "metrics.enabled: must be true or false")
        #expect(refusal(["public": 1]) == "metrics.public: must be true or false")
        #expect(refusal(["scrape": true])?.hasPrefix("metrics.scrape: unknown key") == true)
        #expect(refusal(["bearer-token-file": "/nonexistent/token"]) == "metrics.bearer-token-file: cannot read /nonexistent/token: No such file or directory")
        let short = FileManager.default.temporaryDirectory.appendingPathComponent("short-token-\(UUID().uuidString.prefix(8))").path
        try "short".write(toFile: short, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: short) }
        #expect(refusal(["bearer-token-file": .string(short)]) == "metrics.bearer-token-file: the token in \(short) must be at least 16 characters")
        var loopback = DaemonConfiguration(stateDir: "/tmp/x")
        #expect(loopback.resolvedPublicMetrics)
        loopback.listen = "0.0.0.0"
        #expect(!loopback.resolvedPublicMetrics)
    }
}
