import Foundation
import Synchronization
import Testing
import SwitchboardClient
import SwitchboardCore
import SwitchboardPlugins

/// What one client saw of the events it subscribed to, gathered as they arrive.
final class EventRecorder: Sendable {
    final class Seen: Sendable {
        let events = Mutex<[JSON]>([])
    }

    let seen = Seen()
    private let reader: Task<Void, Never>

    init(_ client: RPCClient) {
        let stream = client.notifications
        let seen = seen
        reader = Task {
            for await notification in stream { seen.events.withLock { $0.append(notification["params"] ?? .null) } }
        }
    }

    deinit { reader.cancel() }

    /// The events of `collection` (and `msg`, when given), in arrival order.
    func events(_ collection: String, _ msg: String? = nil) -> [JSON] {
        seen.events.withLock { $0.filter { $0["collection"]?.stringValue == collection && (msg == nil || $0["msg"]?.stringValue == msg) } }
    }

    func said(tag: String) -> [Int64] {
        events("test.said").filter { $0["fields"]?["tag"]?.stringValue == tag }.compactMap { $0["fields"]?["n"]?.intValue }
    }

    func usernames() -> [String] {
        events("user.query", "added").compactMap { $0["fields"]?["username"]?.stringValue }
    }
}

/// Three real daemons on one PostgreSQL database (issue 19): what a client of one node hears of the others. Each
/// test ends its senders with a marker and waits for it, so that "nothing more arrived" (no duplicate) is proven
/// by what arrived after it.
@Suite(.serialized) struct ClusterDaemonTests {
    /// A node named `node` on the database `dsn`, beating every second. The node timeout is what this node waits
    /// before declaring another dead: short where a test kills a node, long enough elsewhere that a loaded machine
    /// never has a live node declared dead.
    static func start(_ dsn: String, node: String, nodeTimeout: Duration = .seconds(30),
                      plugins: [any Plugin] = BuiltinPlugins.all + [TestPlugin()]) async throws -> TestDaemon {
        try await TestDaemon.start(plugins: plugins) { configuration in
            configuration.datastoreDriver = "postgresql"
            configuration.datastoreDSN = dsn
            configuration.nodeName = node
            configuration.clusterHeartbeat = .seconds(1)
            configuration.clusterNodeTimeout = nodeTimeout
        }
    }

    /// Closes the clients, stops the daemons, drops the database.
    static func finish(_ dsn: String, daemons: [TestDaemon], clients: [RPCClient]) async {
        for client in clients { await client.close() }
        for daemon in daemons { await daemon.stop() }
        await TestPostgres.dropDatabase(dsn)
    }

    static func subscriber(_ daemon: TestDaemon, _ names: [String]) async throws -> (RPCClient, EventRecorder) {
        let client = try await daemon.rootClient()
        let recorder = EventRecorder(client)
        for name in names { _ = try await client.call("core.subscribe", [.string(name)]) }
        return (client, recorder)
    }

    /// A subscriber on A hears B's table changes and C's said events, each node's in its order, once; B's own
    /// subscriber hears B's changes once (the change's event goes out with the change, and never comes back).
    @Test func aSubscriberOnOneNodeHearsEveryOtherNodeOnceInOrder() async throws {
        let dsn = try await TestPostgres.createDatabase()
        let a = try await Self.start(dsn, node: "nas-a")
        let b = try await Self.start(dsn, node: "nas-b")
        let c = try await Self.start(dsn, node: "nas-c")
        let (onA, heardOnA) = try await Self.subscriber(a, ["user.query", "test.said"])
        let (onB, heardOnB) = try await Self.subscriber(b, ["user.query"])
        let rootB = try await b.rootClient()
        let rootC = try await c.rootClient()
        let names = (1...20).map { "user\($0)" }
        async let changes: Void = {
            for name in names { _ = try await rootB.call("user.create", [["username": .string(name), "password": "pw"]]) }
            _ = try await rootB.call("user.create", [["username": "marker-b", "password": "pw"]])
        }()
        async let said: Void = {
            for _ in 0..<5 { _ = try await rootC.call("test.say", [10, "c"]) }
            _ = try await rootC.call("test.say", [1, "marker-c"])
        }()
        _ = try await (changes, said)
        try await eventually("B's marker on A") { heardOnA.usernames().last == "marker-b" }
        try await eventually("C's marker on A") { heardOnA.said(tag: "marker-c") == [1] }
        try await eventually("B's marker on B") { heardOnB.usernames().last == "marker-b" }
        #expect(heardOnA.usernames() == names + ["marker-b"])
        #expect(heardOnB.usernames() == names + ["marker-b"])
        // Five says of 1...10, in order, each once.
        let fiveTimesOneToTen: [Int64] = (0..<50).map { Int64($0 % 10 + 1) }
        #expect(heardOnA.said(tag: "c") == fiveTimesOneToTen)
        // The event carries the row as a client sees it: no password hash crosses.
        let first = try #require(heardOnA.events("user.query", "added").first)
        #expect(first["fields"]?["username"] == "user1" && first["fields"]?["unixhash"] == nil && first["fields"]?["password"] == nil, "\(first)")
        // `subscribe` handlers hear what any node says, and what their own node says, once.
        let rootA = try await a.rootClient()
        #expect(try await rootA.call("test.heard", ["c"]) == 50)
        #expect(try await rootC.call("test.heard", ["c"]) == 50)
        // A change the database refuses (a taken username) fails alone, with the error SQLite gives, while the
        // changes committed in the same batch go through and are heard once.
        async let duplicate = rootB.request("user.create", [["username": "user1", "password": "pw"]])
        async let fresh1 = rootB.call("user.create", [["username": "fresh1", "password": "pw"]])
        async let fresh2 = rootB.call("user.create", [["username": "fresh2", "password": "pw"]])
        let (refused, _, _) = try await (duplicate, fresh1, fresh2)
        #expect(refused["error"]?["data"]?["extra"] == [["user_create.username", "An entry with this username already exists", 17]], "\(refused)")
        try await eventually("both fresh users on A") { Set(heardOnA.usernames().suffix(2)) == ["fresh1", "fresh2"] }
        #expect(heardOnA.usernames().count == names.count + 3)
        // Node-local events stay home: C's said events crossed, but nothing of A's own went out and came back.
        _ = try await rootA.call("user.create", [["username": "marker-a", "password": "pw"]])
        try await eventually("A's own change on A") { heardOnA.usernames().last == "marker-a" }
        try await eventually("A's change on B") { heardOnB.usernames().last == "marker-a" }
        #expect(heardOnA.usernames().filter { $0 == "marker-a" }.count == 1)
        await ClusterDaemonTests.finish(dsn, daemons: [a, b, c], clients: [onA, onB, rootA, rootB, rootC])
    }

    /// `pg_terminate_backend` of a node's LISTEN connection in the middle of a stream loses nothing: the node
    /// polls and reconnects, and reads forward from where it was.
    @Test func aNodeWhoseListenConnectionIsEndedLosesNoEvent() async throws {
        let dsn = try await TestPostgres.createDatabase()
        let a = try await Self.start(dsn, node: "nas-a")
        let b = try await Self.start(dsn, node: "nas-b")
        let (onA, heardOnA) = try await Self.subscriber(a, ["test.said"])
        let rootB = try await b.rootClient()
        _ = try await rootB.call("test.say", [200, "b"])
        let ended = try await TestPostgres.run(TestPostgres.admin(), """
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'switchboard nas-a pid \(getpid()) listen'
            """)
        #expect(ended.count == 1)
        _ = try await rootB.call("test.say", [300, "b"])
        _ = try await rootB.call("test.say", [1, "marker"])
        try await eventually("the marker after the LISTEN connection was ended") { heardOnA.said(tag: "marker") == [1] }
        let expected: [Int64] = Array(1...200) + Array(1...300)
        #expect(heardOnA.said(tag: "b") == expected)
        await ClusterDaemonTests.finish(dsn, daemons: [a, b], clients: [onA, rootB])
    }

    /// A node that stops and starts again under its name finds what the others changed meanwhile, and its new
    /// events reach them: it numbers on from its last event, so the others' cursors do not skip them.
    @Test func aRestartedNodeCatchesUp() async throws {
        let dsn = try await TestPostgres.createDatabase()
        let a = try await Self.start(dsn, node: "nas-a")
        var b = try await Self.start(dsn, node: "nas-b")
        let (onA, heardOnA) = try await Self.subscriber(a, ["user.query"])
        var rootB = try await b.rootClient()
        _ = try await rootB.call("user.create", [["username": "before", "password": "pw"]])
        try await eventually("B's change before its restart") { heardOnA.usernames() == ["before"] }
        await rootB.close()
        await b.stop()
        let rootA = try await a.rootClient()
        _ = try await rootA.call("user.create", [["username": "meanwhile", "password": "pw"]])
        b = try await Self.start(dsn, node: "nas-b")
        rootB = try await b.rootClient()
        let users = try await rootB.call("user.query", [[["username", "in", ["before", "meanwhile"]]], ["select": ["username"], "order_by": ["username"]]])
        #expect(users == [["username": "before"], ["username": "meanwhile"]], "\(users)")
        _ = try await rootB.call("user.create", [["username": "after", "password": "pw"]])
        try await eventually("B's change after its restart") { heardOnA.usernames().last == "after" }
        #expect(heardOnA.usernames() == ["before", "meanwhile", "after"])
        await ClusterDaemonTests.finish(dsn, daemons: [a, b], clients: [onA, rootA, rootB])
    }

    /// Jobs and audit records are numbered from blocks each node reserves: two nodes submitting at once never
    /// share an id, and each job names the node that ran it.
    @Test func jobAndAuditIdsAreUniqueAcrossNodes() async throws {
        let dsn = try await TestPostgres.createDatabase()
        let a = try await Self.start(dsn, node: "nas-a")
        let b = try await Self.start(dsn, node: "nas-b")
        let rootA = try await a.rootClient()
        let rootB = try await b.rootClient()
        async let onA: [Int64] = { var ids: [Int64] = []; for _ in 0..<30 { ids.append(try await rootA.call("test.job", [1, 0]).intValue ?? 0) }; return ids }()
        async let onB: [Int64] = { var ids: [Int64] = []; for _ in 0..<30 { ids.append(try await rootB.call("test.job", [1, 0]).intValue ?? 0) }; return ids }()
        let (idsA, idsB) = try await (onA, onB)
        #expect(Set(idsA + idsB).count == 60 && !idsA.contains(0) && !idsB.contains(0), "\(idsA) \(idsB)")
        for id in idsA { _ = try await rootA.call("core.job_wait", [.int(id)]) }
        for id in idsB { _ = try await rootB.call("core.job_wait", [.int(id)]) }
        let stored = try await rootA.call("core.get_jobs", [[["id", "in", .array((idsA + idsB).map { .int($0) })]], ["select": ["id", "node"]]])
        let nodes = Dictionary(uniqueKeysWithValues: (stored.arrayValue ?? []).compactMap { row in row["id"]?.intValue.map { ($0, row["node"]?.stringValue ?? "") } })
        #expect(idsA.allSatisfy { nodes[$0] == "nas-a" } && idsB.allSatisfy { nodes[$0] == "nas-b" }, "\(stored)")
        _ = try await rootB.call("user.create", [["username": "audited-b", "password": "pw"]])
        _ = try await rootA.call("user.create", [["username": "audited-a", "password": "pw"]])
        try await eventually("both nodes' audit records") {
            let records = try await rootA.call("audit.query", [[["method", "=", "user.create"]], ["select": ["id"]]])
            return records.arrayValue?.count == 2
        }
        let audit = try await rootA.call("audit.query", [[], ["select": ["id"]]])
        let auditIDs = (audit.arrayValue ?? []).compactMap { $0["id"]?.intValue }
        #expect(Set(auditIDs).count == auditIDs.count && auditIDs.count > 60, "\(auditIDs.count)")
        await ClusterDaemonTests.finish(dsn, daemons: [a, b], clients: [rootA, rootB])
    }
}
