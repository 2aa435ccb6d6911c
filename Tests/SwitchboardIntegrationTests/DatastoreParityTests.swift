import Foundation
import Testing
import SwitchboardCore
@testable import SwitchboardStore

/// The query language gives one answer whatever the driver: each query runs on SQLite, on PostgreSQL and in the
/// query engine over the same rows in memory (the reference), and the three must agree exactly. This is what
/// lets a plugin move from the embedded default to a cluster unchanged.
@Suite struct DatastoreParityTests {
    static let table = TableDefinition("parity", columns: [
        .init("name", .text), .init("size", .integer), .init("ratio", .real), .init("enabled", .boolean), .init("meta", .json),
    ])

    /// Rows that exercise what engines disagree on: case, accents, code point order, nulls, negative and
    /// fractional numbers, LIKE's wildcards in the data.
    static let rows: [JSONObject] = {
        let names: [JSON] = ["alpha", "Alpha", "beta", "ÉCOLE", "école", "zeta", "a_b", "a%b", "Zulu", .null, "", "日本", "alpha2", "beta_x"]
        var rows: [JSONObject] = []
        for index in 0..<42 {
            let size: JSON = index % 7 == 3 ? .null : .int(Int64(index * 37 % 23 - 11))
            let ratio: JSON = index % 5 == 4 ? .null : .double(Double(index % 9) / 4 - 1)
            let enabled: JSON = index % 6 == 5 ? .null : .bool(index % 2 == 0)
            rows.append(["id": .int(Int64(index + 1)), "name": names[index % names.count], "size": size, "ratio": ratio,
                         "enabled": enabled, "meta": ["n": .int(Int64(index % 4)), "tags": index % 3 == 0 ? ["x"] : []]])
        }
        return rows
    }()

    static let queries: [(filters: JSON, options: JSON)] = [
        ([], [:]),
        ([["name", "=", "alpha"]], [:]),
        ([["name", "!=", "alpha"]], ["count": true]),
        ([["name", "=", .null]], [:]),
        ([["name", "!=", .null]], ["order_by": ["-id"], "limit": 5]),
        ([["name", "<", "beta"]], [:]),
        ([["name", ">=", "a_b"]], ["limit": 4, "offset": 2]),
        ([["name", "^", "a_"]], [:]),
        ([["name", "^", "a%"]], [:]),
        ([["name", "$", "a"]], [:]),
        ([["name", "C^", "ALP"]], [:]),
        ([["name", "C=", "école"]], [:]),
        ([["name", "in", ["alpha", "zeta", "日本"]]], [:]),
        ([["name", "nin", ["alpha", "zeta"]]], [:]),
        ([["name", "in", []]], [:]),
        ([["size", ">", 0]], [:]),
        ([["size", "<=", -3]], ["order_by": ["size", "-id"]]),
        ([["size", "=", 2.5]], [:]),
        ([["size", ">", 2.5]], [:]),
        ([["size", "in", [1, 2, 3, -11]]], ["count": true]),
        ([["ratio", ">", 0]], [:]),
        ([["ratio", "=", 1]], [:]),
        ([["ratio", "<", 0.25]], ["order_by": ["ratio"]]),
        ([["enabled", "=", true]], [:]),
        ([["enabled", "!=", true]], [:]),
        ([["enabled", "=", 1]], [:]),
        ([["meta.n", "=", 2]], [:]),
        ([["meta.tags", "rin", "x"]], ["count": true]),
        ([["id", ">", 10], ["id", "<=", 30]], ["limit": 5, "offset": 3, "order_by": ["-id"]]),
        ([["id", ">", 10]], ["get": true]),
        ([["id", ">", 100]], ["get": true]),
        ([["OR", [[["name", "=", "alpha"]], [["size", ">", 5]]]]], [:]),
        ([], ["select": ["id", "name"], "order_by": ["name"], "limit": 10]),
        ([], ["count": true, "offset": 40]),
        ([], ["count": true, "limit": 5, "offset": 3]),
        ([["name", "~", "^[a-z]+$"]], [:]),
    ]

    @Test(arguments: DatastoreDriver.allCases)
    func everyQueryGivesTheEnginesAnswer(driver: DatastoreDriver) async throws {
        let scratch = try await ScratchDatastore.open(driver)
        try await scratch.store.prepare(Self.table)
        try await scratch.store.commit(Self.table, upserts: Self.rows, deletes: [])
        for (index, query) in Self.queries.enumerated() {
            let filters = try QueryFilter.parseList(query.filters)
            let options = try QueryOptions.parse(query.options)
            // An error is an answer too (`get` with no match): the same errno and reason.
            let expected: Result<JSON, CallError>
            do {
                expected = .success(try QueryEngine.run(Self.rows.map { .object($0) }, filters: filters, options: options))
            } catch let error as CallError {
                expected = .failure(error)
            }
            let answer: Result<JSON, CallError>
            do {
                answer = .success(try await scratch.store.query(Self.table, filters: filters, options: options))
            } catch let error as CallError {
                answer = .failure(error)
            }
            switch (answer, expected) {
            case (.success(let got), .success(let want)):
                #expect(got == want, "query \(index): \(query.filters) \(query.options)")
            case (.failure(let got), .failure(let want)):
                #expect(got.errno == want.errno && got.reason == want.reason, "query \(index): \(got) instead of \(want)")
            default:
                Issue.record("query \(index): \(answer) instead of \(expected)")
            }
        }
        await scratch.discard()
    }

    /// Rows written with their own keys (the job journal's way) do not make a later insert reuse one of them.
    @Test(arguments: DatastoreDriver.allCases)
    func insertsAfterExplicitKeysGetFreshOnes(driver: DatastoreDriver) async throws {
        let scratch = try await ScratchDatastore.open(driver)
        let store = scratch.store
        try await store.prepare(Self.table)
        let first = try await store.insert(Self.table, ["name": "first"])
        try await store.commit(Self.table, upserts: (2...6).map { ["id": .int($0), "name": .string("n\($0)")] }, deletes: [])
        let explicit = try await store.insert(Self.table, ["id": 40, "name": "forty"])
        let next = try await store.insert(Self.table, ["name": "next"])
        #expect(first == 1 && explicit == 40 && next == 41, "\(first) \(explicit) \(next)")
        await scratch.discard()
    }

    /// A unique clash is EEXIST naming the column, on both drivers, so that clients see one error.
    @Test(arguments: DatastoreDriver.allCases)
    func aUniqueClashNamesItsColumn(driver: DatastoreDriver) async throws {
        let scratch = try await ScratchDatastore.open(driver)
        let table = TableDefinition("clash", columns: [.init("code", .text, unique: true)])
        try await scratch.store.prepare(table)
        _ = try await scratch.store.insert(table, ["code": "a"])
        let error = await #expect(throws: CallError.self) { _ = try await scratch.store.insert(table, ["code": "a"]) }
        #expect(error?.errno == Errno.EEXIST && error?.extra["column"] == "code", "\(String(describing: error))")
        #expect(error?.reason == "An entry with this code already exists")
        await scratch.discard()
    }

    /// A batch larger than PostgreSQL's 65,535 parameters per statement, and a key written twice in one batch
    /// (the later row wins), in one transaction.
    @Test(arguments: DatastoreDriver.allCases)
    func largeBatchesAndRepeatedKeysCommit(driver: DatastoreDriver) async throws {
        let scratch = try await ScratchDatastore.open(driver)
        let store = scratch.store
        try await store.prepare(Self.table)
        let rows: [[JSON]] = (1...15_000).map { [.int($0), .string("r\($0)"), .int($0 % 100), .double(Double($0) / 2), .bool($0 % 2 == 0), ["i": .int($0)]] }
        try await store.commit(Self.table, upserts: [["id": 7, "name": "named"]], rows: rows + [[7, "again", 1, 1.5, true, .null]], deletes: [])
        #expect(try await store.query(Self.table, filters: [], options: QueryOptions.parse(["count": true])) == 15_000)
        // Positional rows go first, then named ones (the datastore's documented order): the named row wins.
        #expect(try await store.get(Self.table, id: 7)?["name"] == "named")
        #expect(try await store.get(Self.table, id: 15_000)?["meta"] == ["i": 15_000])
        try await store.commit(Self.table, upserts: [], rows: [], deletes: Array(1...14_990))
        #expect(try await store.query(Self.table, filters: [], options: QueryOptions.parse(["count": true])) == 10)
        await scratch.discard()
    }

    /// Daemons starting together on one database prepare the same tables at once; each change happens once.
    @Test(arguments: DatastoreDriver.allCases)
    func concurrentPreparesOfOneTableAgree(driver: DatastoreDriver) async throws {
        let scratch = try await ScratchDatastore.open(driver)
        let others = [try await ScratchDatastore.reopen(driver, scratch.location), try await ScratchDatastore.reopen(driver, scratch.location)]
        let grown = TableDefinition("parity", columns: Self.table.columns + [.init("extra", .integer, default: 3), .init("code", .text, unique: true)])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for store in [scratch.store] + others { group.addTask { try await store.prepare(grown) } }
            try await group.waitForAll()
        }
        let id = try await others[0].insert(grown, ["name": "x"])
        #expect(try await scratch.store.get(grown, id: id)?["extra"] == 3)
        for store in others { try await store.close() }
        await scratch.discard()
    }
}
