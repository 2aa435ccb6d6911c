import Foundation
import GRDB
import Testing
import SwitchboardClient
import SwitchboardCore
@testable import SwitchboardStore

/// What the daemon finds in its database file when it starts: tables of an older version (new columns get their
/// defaults), job rows old enough for `jobs.retention-days`, and job rows it could never have written.
@Suite(.serialized) struct StoredRowTests {
    /// Runs SQL on the daemon's database file while no daemon has it open.
    static func sql(_ stateDir: String, _ statements: String...) async throws {
        let store = try SQLiteDatastore(path: stateDir + "/switchboard.db")
        try await store.write { db in for statement in statements { try db.execute(sql: statement) } }
        try await store.close()
    }

    @Test func columnsAddedByANewerVersionGetTheirDefaults() async throws {
        let folder = TestDaemon.makeStateDir()
        let path = folder + "/db.sqlite"
        let before = TableDefinition("things", columns: [.init("name", .text)])
        var store = try SQLiteDatastore(path: path)
        try await store.prepare(before)
        try await store.commit(before, upserts: [["id": 1, "name": "old"]], deletes: [])
        try await store.close()
        // The next version of the table: three more columns, two with defaults, one unique.
        let after = TableDefinition("things", columns: [
            .init("name", .text), .init("size", .integer, default: 7), .init("enabled", .boolean, default: true),
            .init("tags", .json), .init("code", .text, unique: true),
        ])
        store = try SQLiteDatastore(path: path)
        try await store.prepare(after)
        let old = try #require(try await store.get(after, id: 1))
        #expect(old["name"] == "old" && old["size"] == 7 && old["enabled"] == true && (old["tags"] ?? .null).isNull && (old["code"] ?? .null).isNull,
                "\(old)")
        // New rows get the defaults too, and the new unique column holds.
        let id = try await store.insert(after, ["name": "new", "code": "a"])
        #expect(try await store.get(after, id: id)?["size"] == 7)
        let duplicate = await #expect(throws: CallError.self) { _ = try await store.insert(after, ["name": "dup", "code": "a"]) }
        #expect(duplicate?.errno == Errno.EEXIST, "\(String(describing: duplicate))")
        // Preparing again changes nothing.
        try await store.prepare(after)
        #expect(try await store.query(after, filters: [], options: QueryOptions()).arrayValue?.count == 2)
        try await store.close()
    }

    /// `jobs.retention-days`: at start, finished jobs older than the limit are deleted with their logs; the newest
    /// job is kept whatever its age (the next id continues from it).
    @Test func jobsOlderThanTheRetentionAgeAreDeletedWithTheirLogs() async throws {
        let dir = TestDaemon.makeStateDir()
        var daemon = try await TestDaemon.start(stateDir: dir)
        var root = try await daemon.rootClient()
        var ids: [Int64] = []
        for _ in 0..<4 {
            let id = try await root.call("test.job", [1, 1])
            _ = try await root.call("core.job_wait", [id])
            ids.append(id.intValue ?? 0)
        }
        let logs = try await root.call("core.get_jobs", [[], ["order_by": ["id"]]]).arrayValue?.compactMap { $0["logs_path"]?.stringValue } ?? []
        #expect(logs.count == 4 && logs.allSatisfy { FileManager.default.fileExists(atPath: $0) })
        await root.close()
        await daemon.stop()
        let threeDaysAgo = Int64(Date().timeIntervalSince1970 * 1000) - 3 * 86_400_000
        // The first two and the newest are old; the third is recent.
        try await Self.sql(dir, "UPDATE jobs SET time_finished = \(threeDaysAgo) WHERE id IN (\(ids[0]), \(ids[1]), \(ids[3]))")
        daemon = try await TestDaemon.start(stateDir: dir) { $0.jobs.retentionAge = .seconds(2 * 86_400) }
        root = try await daemon.rootClient()
        let kept = try await root.call("core.get_jobs", [[], ["order_by": ["id"]]]).arrayValue?.compactMap { $0["id"]?.intValue }
        #expect(kept == [ids[2], ids[3]])
        #expect(!FileManager.default.fileExists(atPath: logs[0]) && !FileManager.default.fileExists(atPath: logs[1]))
        #expect(FileManager.default.fileExists(atPath: logs[2]) && FileManager.default.fileExists(atPath: logs[3]))
        await root.close()
        await daemon.stop()
    }

    /// Rows the daemon could never have written (an unknown state, no id type it knows, arguments that are
    /// not JSON, a RUNNING row without a start time) do not stop it: readable ones are listed, unreadable ones
    /// are reported by id in the log and left alone, and ids continue after the highest.
    @Test func malformedJobRowsDoNotStopTheDaemon() async throws {
        let dir = TestDaemon.makeStateDir()
        var daemon = try await TestDaemon.start(stateDir: dir)
        var root = try await daemon.rootClient()
        let good = try await root.call("test.job", [0])
        _ = try await root.call("core.job_wait", [good])
        await root.close()
        await daemon.stop()
        let base = (good.intValue ?? 0)
        try await Self.sql(dir,
            "INSERT INTO jobs (id, method, state, owner) VALUES (\(base + 1), 'x.y', 'EXPLODED', 'root')",
            "INSERT INTO jobs (id, method, state, owner, arguments, result, time_finished) VALUES (\(base + 2), 'x.y', 'SUCCESS', 'root', '{{{not json', '[1,', \(Int64(Date().timeIntervalSince1970 * 1000)))",
            "INSERT INTO jobs (id, method, state, owner) VALUES (\(base + 3), NULL, 'RUNNING', NULL)",
            "INSERT INTO jobs (id, method, state, owner, percent) VALUES (\(base + 4), 'x.y', NULL, 'root', 'lots')")
        let log = LogCapture()
        daemon = try await TestDaemon.start(stateDir: dir, logHandler: log)
        root = try await daemon.rootClient()
        let rows = try await root.call("core.get_jobs", [[], ["order_by": ["id"]]]).arrayValue ?? []
        #expect(rows.compactMap { $0["id"]?.intValue } == [base, base + 2, base + 3], "\(rows)")
        // The text that is not JSON is given back as the text it is, not dropped or crashed on.
        #expect(rows[1]["arguments"] == [] && rows[1]["result"] == "[1,", "\(rows[1])")
        // The RUNNING row a dead daemon left is failed as interrupted, like any other.
        #expect(rows[2]["state"] == "FAILED" && rows[2]["error"] == "interrupted: daemon restarted", "\(rows[2])")
        #expect(try await root.request("core.job_wait", [.int(base + 1)])["error"]?["data"]?["errname"] == "ENOENT")
        #expect(log.lines.contains { $0.contains("job rows the daemon cannot read") && $0.contains("\(base + 1)") && $0.contains("\(base + 4)") },
                "\(log.lines)")
        let next = try await root.call("test.job", [0])
        #expect(next.intValue == base + 5)
        await root.close()
        await daemon.stop()
    }

    /// Each job names the node that runs it (`dispatcher.node-name`), in `core.get_jobs` and in its row. Rows from
    /// before nodes had names (the column is NULL) were run by the only daemon the datastore served: the next start
    /// names them after itself, finished or interrupted alike; rows that have a node keep it.
    @Test func jobsNameTheirNodeAndOlderRowsGetTheNodeThatStarts() async throws {
        let dir = TestDaemon.makeStateDir()
        var daemon = try await TestDaemon.start(stateDir: dir) { $0.nodeName = "nas-a" }
        var root = try await daemon.rootClient()
        #expect(try await root.call("system.info")["node"] == "nas-a")
        let kept = try await root.call("test.job", [0]), unnamed = try await root.call("test.job", [0])
        _ = try await root.call("core.job_wait", [kept])
        _ = try await root.call("core.job_wait", [unnamed])
        #expect(try await root.call("core.get_jobs", [[["id", "=", kept]], ["get": true]])["node"] == "nas-a")
        await root.close()
        await daemon.stop()
        let base = unnamed.intValue ?? 0
        try await Self.sql(dir,
            "UPDATE jobs SET node = NULL WHERE id = \(base)",
            "INSERT INTO jobs (id, method, state, owner) VALUES (\(base + 1), 'x.y', 'RUNNING', 'root')")
        daemon = try await TestDaemon.start(stateDir: dir) { $0.nodeName = "nas-b" }
        root = try await daemon.rootClient()
        let fresh = try await root.call("test.job", [0])
        _ = try await root.call("core.job_wait", [fresh])
        let rows = try await root.call("core.get_jobs", [[], ["order_by": ["id"], "select": ["id", "node", "state"]]])
        #expect(rows == [
            ["id": kept, "node": "nas-a", "state": "SUCCESS"], ["id": .int(base), "node": "nas-b", "state": "SUCCESS"],
            ["id": .int(base + 1), "node": "nas-b", "state": "FAILED"], ["id": fresh, "node": "nas-b", "state": "SUCCESS"],
        ], "\(rows)")
        await root.close()
        await daemon.stop()
        // The row itself says so, not only the answer.
        let store = try SQLiteDatastore(path: dir + "/switchboard.db")
        let named = try await store.read { db in try String.fetchAll(db, sql: "SELECT node FROM jobs ORDER BY id") }
        try await store.close()
        #expect(named == ["nas-a", "nas-b", "nas-b", "nas-b"])
    }

    /// A plugin whose set-up fails for a reason in the machine, not in the configuration (here the `user`
    /// plugin cannot make `username` unique: an older file holds the same name twice), stops the real binary
    /// with exit 1 and one line naming the plugin and the cause.
    @Test func aPluginThatCannotSetUpStopsTheBinaryWithExitOne() async throws {
        let dir = TestDaemon.makeStateDir()
        try await Self.sql(dir,
            "CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT)",
            "INSERT INTO users (username) VALUES ('twice'), ('twice')")
        let output = try await Binary.run(["serve", "--state-dir", dir, "--port", "0"], timeout: .seconds(30))
        #expect(output.status == 1, "\(output.stderr)")
        let line = output.stderr.split(separator: "\n").filter { $0.hasPrefix("switchboard: ") }
        #expect(line.count == 1 && line.first?.hasPrefix("switchboard: plugin 'user' failed to set up: ") == true, "\(output.stderr)")
        #expect(line.first == "switchboard: plugin 'user' failed to set up: [EEXIST] An entry with this username already exists", "\(output.stderr)")
    }
}
