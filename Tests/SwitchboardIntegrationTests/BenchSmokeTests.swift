import Foundation
import Testing
import SwitchboardCore

/// Runs every benchmark scenario once at a tiny size so the tool cannot rot. It checks the counts add up,
/// never the speed: figures come from release builds, not from tests.
@Suite struct BenchSmokeTests {
    /// Runs `switchboard-bench` with `arguments` (and `--json`) and returns its figures by name, recording an issue
    /// when it fails or hangs; nil (with the issue recorded) when the executables are missing.
    static func run(_ arguments: [String]) async throws -> [String: Double]? {
        guard let switchboard = Binary.path else {
            Issue.record("the switchboard executable was not found next to the tests; run `swift build` first")
            return nil
        }
        let bench = URL(fileURLWithPath: switchboard).deletingLastPathComponent().appendingPathComponent("switchboard-bench").path
        guard FileManager.default.isExecutableFile(atPath: bench) else {
            Issue.record("switchboard-bench was not found at \(bench); run `swift build` first")
            return nil
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: bench)
        process.arguments = ["run"] + arguments + ["--json"]
        process.environment = Binary.environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        // A hung bench (a daemon that never answers its probe, say) fails the test instead of hanging the suite.
        let watchdog = Task {
            try await Task.sleep(for: .seconds(600))
            if process.isRunning { process.terminate() }
        }
        let data = try await Binary.onThread {
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return data
        }
        watchdog.cancel()
        #expect(process.terminationReason == .exit, "the bench did not finish within 600 s and was stopped")
        #expect(process.terminationStatus == 0)
        var figures: [String: Double] = [:]
        for figure in try JSON.parse(bytes: data).arrayValue ?? [] {
            figures[figure["name"]?.stringValue ?? ""] = figure["value"]?.doubleValue
        }
        return figures
    }

    @Test func everyScenarioRunsAndItsCountsAddUp() async throws {
        guard let figures = try await Self.run(["rpc", "fanout", "jobs", "conns", "startup", "plugin", "--seconds", "0.5", "--connections", "2",
                                                "--in-flight", "2", "--subscribers", "25", "--rate", "100", "--conns", "30", "--rounds", "2",
                                                "--starts", "1"]) else { return }
        for prefix in ["rpc core.ping 2x2", "rpc user.query 2x2", "baseline 2x2", "rpc core.ping 1x1", "baseline 1x1"] {
            #expect((figures["\(prefix) calls/s"] ?? 0) > 0, "\(prefix) made no calls")
            #expect(figures["\(prefix) errors"] == 0, "\(prefix) had errors")
            #expect((figures["\(prefix) p50"] ?? 0) > 0)
        }
        #expect((figures["rpc/baseline rate ratio"] ?? 0) > 0)
        let emitted = figures["fanout events emitted"] ?? 0
        #expect(emitted > 0)
        // The pacing schedule is absolute (event n is due at n / rate) and nothing is sent past the run's end:
        // 100/s for 0.5 s is at most 50 events however slow the machine (a slow one sends fewer).
        #expect(emitted <= 50, "paced at 100 events/s for 0.5 s: \(emitted) events")
        #expect(figures["fanout deliveries"] == emitted * 25, "every subscriber receives every event")
        #expect((figures["jobs completed/s"] ?? 0) > 0)
        #expect(figures["jobs errors"] == 0)
        #expect(figures["conns connections"] == 30)
        #expect((figures["conns RSS per idle connection"] ?? 0) > 0)
        #expect((figures["startup to /health median"] ?? 0) > 0)
        for prefix in ["plugin compiled-in core.ping 2x2", "plugin echo (Swift) bench_echo.ping 2x2", "plugin Python host bench_plugin.ping 2x2",
                       "plugin echo (Swift) bench_echo.ping 1x1", "plugin Python host bench_plugin.ping 1x1"] {
            #expect((figures["\(prefix) calls/s"] ?? 0) > 0, "\(prefix) made no calls")
            #expect(figures["\(prefix) errors"] == 0, "\(prefix) had errors")
        }
        #expect((figures["plugin Python host 2x2 plugin CPU per call"] ?? 0) > 0)
    }

    /// `run cluster` against the suite's PostgreSQL server (SWITCHBOARD_TEST_POSTGRES, inherited): three nodes,
    /// then one node on each driver.
    @Test func theClusterScenarioRunsAndItsCountsAddUp() async throws {
        _ = try TestPostgres.admin()
        guard let figures = try await Self.run(["cluster", "--seconds", "0.5", "--connections", "2", "--in-flight", "2", "--emitters", "2",
                                                "--cluster-subscribers", "4", "--cluster-fanout-subscribers", "3"]) else { return }
        // Every subscriber on the two other nodes received every update of node A.
        let emitted = figures["cluster A->B,C events emitted"] ?? 0
        #expect(emitted > 0)
        #expect(figures["cluster A->B,C deliveries"] == emitted * 4, "\(figures)")
        #expect((figures["cluster A->B,C send-to-delivery p99"] ?? 0) > 0)
        for prefix in ["fanout", "fanout (PostgreSQL)"] {
            let events = figures["\(prefix) events emitted"] ?? 0
            #expect(events > 0 && figures["\(prefix) deliveries"] == events * 3, "\(prefix): \(figures)")
        }
        for prefix in ["jobs", "jobs (PostgreSQL)"] {
            #expect((figures["\(prefix) completed/s"] ?? 0) > 0 && figures["\(prefix) errors"] == 0, "\(prefix): \(figures)")
        }
        for prefix in ["rpc core.ping 2x2", "rpc (PostgreSQL) core.ping 2x2", "rpc user.query 2x2", "rpc (PostgreSQL) user.query 2x2"] {
            #expect((figures["\(prefix) calls/s"] ?? 0) > 0 && figures["\(prefix) errors"] == 0, "\(prefix): \(figures)")
        }
        for ratio in ["jobs/s", "rpc core.ping calls/s", "rpc user.query calls/s", "fanout deliveries/s"] {
            #expect((figures["PostgreSQL/SQLite \(ratio)"] ?? 0) > 0, "\(ratio)")
        }
    }
}
