import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore
@testable import SwitchboardServer

/// Workers, Zephserver's services (issue 20): started as configured, resurrected with backoff when they die,
/// quarantined past the intensity limit, resurrected at once when asked for (`get_service`), and steered by
/// `worker.*` with an event for each change.
@Suite struct WorkerTests {
    static func worker(_ client: RPCClient, _ name: String) async throws -> JSON {
        try await client.call("worker.query", [[["name", "=", .string(name)]], ["get": true]])
    }

    /// A worker that keeps dying is restarted after each death (10 ms, 20 ms, 40 ms: the policy's backoff) and
    /// quarantined at the fourth death within the window; every change is a `worker.query` event.
    @Test func aDyingWorkerIsRestartedThenQuarantined() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        let (_, heard) = try await ClusterDaemonTests.subscriber(daemon, ["worker.query"])
        #expect(try await Self.worker(root, "test.crashy")["state"] == "running")
        _ = try await root.call("test.open", ["crashy"])
        try await eventually("quarantined") { try await Self.worker(root, "test.crashy")["state"] == "quarantined" }
        let row = try await Self.worker(root, "test.crashy")
        #expect(row["restarts"] == 4 && row["last_error"] == "crashed for the test" && row["plugin"] == "test", "\(row)")
        let states = heard.events("worker.query").filter { $0["id"] == "test.crashy" }.compactMap { $0["fields"]?["state"]?.stringValue }
        #expect(states == ["failed", "running", "failed", "running", "failed", "running", "quarantined"], "\(states)")
        // Asking for it does not hurry a quarantined worker; an operator's start does.
        #expect(try await root.call("test.get_worker", ["test.crashy"])["state"] == "quarantined")
        let started = try await root.call("worker.start", ["test.crashy"])
        #expect(started["name"] == "test.crashy", "\(started)")
        try await eventually("it ran again, and died again") { try await Self.worker(root, "test.crashy")["restarts"] == 5 }
        await daemon.stop()
    }

    /// A dead worker whose next start is far off (600 s) runs again at once when a plugin asks for it, as
    /// Zephserver's `get_service` does; stop, start and restart steer it, and unknown names are refused.
    @Test func askingForADeadWorkerResurrectsIt() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        try await eventually("run 0 waiting") { try await root.call("test.waiting", ["lazy-0"]) == 1 }
        _ = try await root.call("test.open", ["lazy-0"])
        try await eventually("failed") { try await Self.worker(root, "test.lazy")["state"] == "failed" }
        #expect(try await Self.worker(root, "test.lazy")["last_error"] == "run 0 ended for the test")
        let asked = try await root.call("test.get_worker", ["test.lazy"])
        #expect(asked["name"] == "test.lazy")
        try await eventually("run 1 waiting") { try await root.call("test.waiting", ["lazy-1"]) == 1 }
        #expect(try await Self.worker(root, "test.lazy")["state"] == "running")

        let stopped = try await root.call("worker.stop", ["test.lazy"])
        #expect(stopped["state"] == "available" && stopped["started_at"] == .null, "\(stopped)")
        // Its main was cancelled, not left waiting.
        #expect(try await root.call("test.waiting", ["lazy-1"]) == 0)
        #expect(try await root.call("test.get_worker", ["test.lazy"])["state"] == "available")
        let again = try await root.call("worker.restart", ["test.lazy"])
        #expect(again["state"] == "running", "\(again)")
        try await eventually("run 0 of the new start waiting") { try await root.call("test.waiting", ["lazy-0"]) == 0 }
        let unknown = try await root.request("worker.start", ["nope"])
        #expect(unknown["error"]?["data"]?["errname"] == "ENOENT" && unknown["error"]?["data"]?["reason"] == "No worker named nope", "\(unknown)")
        await daemon.stop()
    }

    /// Event sources' producers are listed with the workers, in the same shape: available while nobody subscribes,
    /// one running row per argument while someone does; `worker.*` refuses to steer them.
    @Test func eventSourcesAreListedInTheSameShape() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        func sources() async throws -> [String: String] {
            let rows = try await root.call("worker.query", [[["kind", "=", "event_source"], ["plugin", "=", "test"]]]).arrayValue ?? []
            return Dictionary(uniqueKeysWithValues: rows.compactMap { row in
                row["name"]?.stringValue.map { ($0, row["state"]?.stringValue ?? "") }
            })
        }
        #expect(try await sources() == ["test.counter": "available", "test.finite": "available", "test.broken": "available"])
        let watcher = try await daemon.rootClient()
        let id = try await watcher.call("core.subscribe", [#"test.counter:{"step":2}"#])
        #expect(try await sources()["test.counter:{\"step\":2}"] == "running")
        #expect(try await sources()["test.counter"] == nil)
        let row = try await root.call("worker.query", [[["name", "=", #"test.counter:{"step":2}"#]], ["get": true]])
        #expect(row["kind"] == "event_source" && row["restarts"] == 0 && row["started_at"]?["$date"] != nil, "\(row)")
        let refused = await PluginRuntimeTests.errno { try await root.call("worker.stop", [#"test.counter:{"step":2}"#]) }
        #expect(refused?.0 == Int64(Errno.EINVAL) && refused?.1.contains("is an event source") == true, "\(String(describing: refused))")
        _ = try await watcher.call("core.unsubscribe", [id])
        try await eventually("the producer stopped") { try await sources()["test.counter"] == "available" }
        await watcher.close()
        await root.close()
        await daemon.stop()
    }

    /// `dispatcher.workers` lists the workers to start (the others stay available); a name no plugin declares
    /// stops the start, naming the entry.
    @Test func theConfigurationListsTheWorkersToStart() async throws {
        let daemon = try await TestDaemon.start { $0.workers = ["test.lazy"] }
        let root = try await daemon.rootClient()
        #expect(try await Self.worker(root, "test.lazy")["state"] == "running")
        #expect(try await Self.worker(root, "test.crashy")["state"] == "available")
        let names = try await root.call("worker.query", [[["kind", "=", "worker"]], ["select": ["name"]]]).arrayValue?
            .compactMap { $0["name"]?.stringValue }
        #expect(names == ["test.crashy", "test.lazy"])
        await daemon.stop()

        do {
            let refused = try await TestDaemon.start { $0.workers = ["test.lazy", "nope"] }
            await refused.stop()
            Issue.record("a worker no plugin declares was accepted")
        } catch let error as ConfigurationError {
            #expect("\(error)" == "dispatcher.workers.1: no loaded plugin declares a worker named 'nope'")
        }
    }
}
