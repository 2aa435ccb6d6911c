import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore

@Suite(.serialized) struct EventSourceTests {
    func runs(_ client: RPCClient) async throws -> JSON { try await client.call("test.source_runs") }

    @Test func startedByTheFirstSubscriberRestartedAfterAFailureStoppedByTheLast() async throws {
        let daemon = try await TestDaemon.start()
        let a = try await daemon.client(as: "a", roles: ["READONLY_ADMIN"])
        #expect(try await runs(a)["producers"] == 0)
        let sub = try await a.call("core.subscribe", ["test.counter"])
        // Runs 1 and 2 fail after two events each; run 3 goes on.
        var seenRuns: [Int64] = []
        while seenRuns.last != 3 || seenRuns.count < 6 {
            let event = try await a.nextNotification()
            #expect(event["params"]?["collection"] == "test.counter")
            seenRuns.append(event["params"]?["fields"]?["run"]?.intValue ?? 0)
        }
        #expect(Array(seenRuns.prefix(4)) == [1, 1, 2, 2])
        #expect(try await runs(a)["running"] == 1)
        // A second subscriber with the same argument shares the producer; another argument starts another.
        let b = try await daemon.client(as: "b", roles: ["READONLY_ADMIN"])
        let same = try await b.call("core.subscribe", ["test.counter"])
        // Shared: b's events come from a's run 3, not from a run of its own (which would be run 4).
        let shared = try await b.nextNotification()
        #expect(shared["params"]?["fields"]?["run"] == 3, "\(shared)")
        #expect(try await runs(a)["producers"] == 1)
        let other = try await b.call("core.subscribe", [#"test.counter:{"step":10}"#])
        try await eventually("a second producer") { try await runs(a)["producers"] == 2 }
        _ = try await b.call("core.unsubscribe", [other])
        _ = try await b.call("core.unsubscribe", [same])
        try await eventually("the step-10 producer stopped") { try await runs(a)["producers"] == 1 }
        _ = try await a.call("core.unsubscribe", [sub])
        try await eventually("no producer left") { try await runs(a)["producers"] == 0 }
        try await eventually("no producer running") { try await runs(a)["running"] == 0 }
        // A closed connection stops its producer too.
        _ = try await b.call("core.subscribe", ["test.counter"])
        try await eventually("the new subscription's producer runs") { try await runs(a)["running"] == 1 }
        await b.close()
        try await eventually("the closed connection's producer stopped") { try await runs(a)["running"] == 0 }
        await a.close()
        await daemon.stop()
    }

    @Test func streamThatEndsNotifiesItsSubscribers() async throws {
        let daemon = try await TestDaemon.start()
        let client = try await daemon.client(as: "a", roles: ["READONLY_ADMIN"])
        _ = try await client.call("core.subscribe", ["test.finite"])
        #expect(try await client.nextNotification()["params"]?["fields"] == ["n": 1])
        #expect(try await client.nextNotification()["params"]?["fields"] == ["n": 2])
        let end = try await client.nextNotification()
        #expect(end == ["jsonrpc": "2.0", "method": "notify_unsubscribed", "params": ["collection": "test.finite", "error": nil]])
        _ = try await client.call("core.subscribe", ["test.broken"])
        let failed = try await client.nextNotification()
        #expect(failed["method"] == "notify_unsubscribed")
        #expect(failed["params"]?["error"]?["error"] == 5)
        #expect(failed["params"]?["error"]?["reason"] == "broken for good")
        await client.close()
        await daemon.stop()
    }

    @Test func argumentsAndRolesAreChecked() async throws {
        let daemon = try await TestDaemon.start()
        let reader = try await daemon.client(as: "a", roles: ["READONLY_ADMIN"])
        let nobody = try await daemon.client(as: "n", roles: [])
        #expect(try await nobody.request("core.subscribe", ["system.stats"])["error"]?["data"]?["error"] == 13)
        #expect(try await reader.request("core.subscribe", ["system.stats:{oops"])["error"]?["code"] == -32602)
        #expect(try await reader.request("core.subscribe", [#"system.stats:{"interval": -1}"#])["error"]?["code"] == -32602)
        _ = try await reader.call("core.subscribe", [#"system.stats:{"interval": 0.2}"#])
        let stats = try await reader.nextNotification()
        #expect(stats["params"]?["collection"] == "system.stats")
        #expect(stats["params"]?["fields"]?["memory"]?["total"]?.intValue != nil)
        #expect(stats["params"]?["fields"]?["loadavg"]?.arrayValue?.count == 3)
        #expect(stats["params"]?["fields"]?["cpu_percent"]?.doubleValue != nil)
        await reader.close()
        await nobody.close()
        await daemon.stop()
    }
}

@Suite(.serialized) struct FanOutTests {
    /// A bare-socket client logged in as `admin` and subscribed to `test.fanout`, which reads only when told.
    /// Returns once `observer` sees the subscription in place.
    func subscribedRawClient(_ daemon: TestDaemon, observer: RPCClient) async throws -> RawWebSocket {
        let before = try await observer.call("test.subscriptions", ["test.fanout"]).intValue ?? 0
        let client = try RawWebSocket(port: daemon.port)
        try client.sendText(#"{"jsonrpc":"2.0","id":1,"method":"auth.login","params":["admin","pa55word"]}"#)
        try client.sendText(#"{"jsonrpc":"2.0","id":2,"method":"core.subscribe","params":["test.fanout"]}"#)
        try await eventually("the raw client subscribed") {
            try await observer.call("test.subscriptions", ["test.fanout"]).intValue == before + 1
        }
        return client
    }

    @Test func twoHundredSubscribersReceiveEveryEventInOrder() async throws {
        let daemon = try await TestDaemon.start()
        let emitter = try await daemon.client(as: "emitter", roles: ["FULL_ADMIN"])
        _ = try await emitter.call("user.create", [["username": "watcher", "password": "pw", "roles": ["READONLY_ADMIN"]]])
        var clients: [RPCClient] = []
        for _ in 0..<200 {
            let client = try await RPCClient.connect(to: daemon.tcp)
            _ = try await client.call("auth.login", ["watcher", "pw"])
            _ = try await client.call("core.subscribe", ["test.fanout"])
            clients.append(client)
        }
        let count = 100
        _ = try await emitter.call("test.emit", [.int(Int64(count))])
        try await withThrowingTaskGroup(of: [Int64].self) { group in
            for client in clients {
                group.addTask {
                    var seen: [Int64] = []
                    while seen.count < count {
                        seen.append(try await client.nextNotification()["params"]?["id"]?.intValue ?? -1)
                    }
                    return seen
                }
            }
            for try await seen in group {
                #expect(seen == Array(0..<Int64(count)))
            }
        }
        for client in clients { await client.close() }
        await emitter.close()
        await daemon.stop()
    }

    @Test func slowConsumerIsClosedOthersKeepReceivingMemoryStaysBounded() async throws {
        let daemon = try await TestDaemon.start {
            $0.maxOutboundMessages = 256
            $0.maxOutboundBytes = 1 << 20
        }
        let admin = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        _ = try await admin.call("core.subscribe", ["test.fanout"])
        let slow = try await subscribedRawClient(daemon, observer: admin)
        let before = residentMemory()
        // 100 rounds of 100 events of 4 KiB: 40 MB in all, far more than the slow client's queue may hold;
        // each burst fits the fast client's queue, which drains between bursts.
        for round in 0..<100 {
            _ = try await admin.call("test.emit", [100, 4096])
            var received = 0
            while received < 100 {
                let event = try await admin.nextNotification()
                if event["params"]?["collection"] == "test.fanout" { received += 1 }
            }
        }
        let after = residentMemory()
        #expect(slow.drainUntilClosed(timeout: .seconds(10)), "the slow consumer was not disconnected")
        #expect(after - before < 48 << 20, "memory grew by \((after - before) >> 20) MiB")
        // The fast client is still served.
        #expect(try await admin.call("core.ping") == "pong")
        await admin.close()
        await daemon.stop()
    }
    @Test func overflowedConsumerThatReadsAgainGetsCloseCode1008() async throws {
        let daemon = try await TestDaemon.start {
            $0.maxOutboundMessages = 64
            $0.maxOutboundBytes = 256 << 10
        }
        let admin = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        let slow = try await subscribedRawClient(daemon, observer: admin)
        // Three events the writer sends at once (the socket takes them while the client is not reading), then
        // 6 MB more: more than the kernel's socket buffers, NIO's high-water mark and the 256 KiB queue hold
        // together. (How many of the burst are written before the queue overflows is the scheduler's choice:
        // on a loaded machine the burst can fill the queue before the writer runs at all.)
        _ = try await admin.call("test.emit", [3, 4096])
        // The first event reaching the client's (4 KiB) receive buffer shows the writer has taken the three.
        try await eventually("the login and subscribe replies and an event arrived") { slow.arrivedFrameCount() >= 3 }
        _ = try await admin.call("test.emit", [1500, 4096])
        // The client reads again at once, well inside the close grace period: it gets what was already on its
        // way, then a close frame that says why, then an orderly close.
        let (frames, closedByPeer) = slow.readFrames(timeout: .seconds(10))
        let close = try #require(frames.last, "no frames at all")
        #expect(close.opcode == 0x8, "last frame has opcode \(close.opcode), expected a close frame")
        #expect(close.payload.count >= 2 && Int(close.payload[0]) << 8 | Int(close.payload[1]) == 1008)
        #expect(String(decoding: close.payload.dropFirst(2), as: UTF8.self) == "outbound queue full: client too slow")
        #expect(closedByPeer)
        let events = frames.filter { $0.opcode == 0x1 }.count
        #expect(events >= 3 && events < 1503, "\(events) text frames")
        #expect(try await admin.call("core.ping") == "pong")
        // /metrics counts the closed consumer and the frames lost with its queue (at least the one that did not fit).
        let metrics = try await MetricsTests.scrape(daemon).text
        #expect(MetricsTests.sample(metrics, "switchboard_slow_consumers_closed_total") == 1)
        #expect((MetricsTests.sample(metrics, "switchboard_outbound_dropped_total") ?? 0) >= 1)
        await admin.close()
        await daemon.stop()
    }

    @Test func shutdownIsNotHeldUpByAClientThatStoppedReading() async throws {
        let daemon = try await TestDaemon.start { $0.connectionCloseGrace = .seconds(1) }
        let admin = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        let stalled = try await subscribedRawClient(daemon, observer: admin)
        // 6 MB: the kernel's buffers and NIO are full, the rest waits in the (8 MiB) queue, no overflow. The
        // close frame of a graceful shutdown can never be sent to this client.
        _ = try await admin.call("test.emit", [1500, 4096])
        await admin.close()
        let stopped = ManagedAtomicFlag()
        let stopper = Task {
            await daemon.stop()
            stopped.set()
        }
        // A liveness bound, not a speed figure: without the close grace this waits forever.
        for _ in 0..<600 where !stopped.isSet { try await Task.sleep(for: .milliseconds(100)) }
        #expect(stopped.isSet, "the daemon did not stop within 60 s")
        if !stopped.isSet { stopper.cancel() }
        withExtendedLifetime(stalled) {}
    }
}
