import Foundation
import Testing
import SwitchboardCore
@testable import SwitchboardStore

/// Both drivers against a real database: a SQLite file and a PostgreSQL server. Every test runs on each, and
/// must give the same answers: plugins run unchanged on either.
@Suite struct DatastoreDriverTests {
    static let table = TableDefinition("things", columns: [
        .init("name", .text, unique: true), .init("size", .integer), .init("tags", .json),
    ])

    func open() throws -> (SQLiteDatastore, String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sb-sqlite-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return (try SQLiteDatastore(path: folder + "/db.sqlite"), folder)
    }

    @Test(arguments: DatastoreDriver.allCases)
    func commitInsertsReplacesAndDeletesInOneGo(driver: DatastoreDriver) async throws {
        let scratch = try await ScratchDatastore.open(driver)
        let store = scratch.store
        try await store.prepare(Self.table)
        try await store.commit(Self.table, upserts: [
            ["id": 1, "name": "a", "size": 1, "tags": ["x"]],
            ["id": 2, "name": "b", "size": 2, "tags": []],
            ["id": 3, "name": "c", "size": 3, "tags": .null],
        ], deletes: [])
        // Replace 1 whole, delete 3, add 4, in one transaction.
        try await store.commit(Self.table, upserts: [["id": 1, "name": "a2", "size": 10, "tags": ["y", "z"]], ["id": 4, "name": "d", "size": 4, "tags": .null]], deletes: [3])
        let rows = try await store.query(Self.table, filters: [], options: QueryOptions())
        #expect(rows.arrayValue?.compactMap { $0["id"]?.intValue } == [1, 2, 4])
        #expect(rows[0]?["name"] == "a2" && rows[0]?["size"] == 10 && rows[0]?["tags"] == ["y", "z"])
        await scratch.discard()
    }

    /// Statements stay prepared for the first texts only: pages of one query share a text, and a client that
    /// varies its filters (here `in` lists of 1 to 300 values) fills the bound and no more, with every answer
    /// still right past it.
    @Test func preparedStatementsAreKeptUpToABound() async throws {
        let (store, folder) = try open()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try await store.prepare(Self.table)
        try await store.commit(Self.table, upserts: (1...20).map { ["id": .int($0), "name": .string("n\($0)"), "size": .int($0)] }, deletes: [])
        let before = store.shapes.count
        for offset in [0, 2, 4, 18] {
            let page = try await store.query(Self.table, filters: [], options: QueryOptions.parse(["limit": 2, "offset": .int(Int64(offset))]))
            #expect(page.arrayValue?.compactMap { $0["id"]?.intValue } == [offset + 1, offset + 2].map(Int64.init))
        }
        #expect(store.shapes.count == before + 1)
        for count in 1...300 {
            let filters = try QueryFilter.parseList([["size", "in", .array((1...count).map { .int(Int64($0)) })]])
            let rows = try await store.query(Self.table, filters: filters, options: QueryOptions.parse(["count": true]))
            #expect(rows == .int(Int64(min(count, 20))), "in list of \(count)")
        }
        #expect(store.shapes.count == StatementShapes.limit)
        // Writes past the bound still work, prepared for their one use.
        #expect(try await store.update(Self.table, id: 1, ["size": 100]))
        #expect(try await store.get(Self.table, id: 1)?["size"] == 100)
        #expect(try await store.delete(Self.table, id: 1))
        try await store.close()
    }

    @Test(arguments: DatastoreDriver.allCases)
    func positionalRowsShareTheTransactionWithNamedOnes(driver: DatastoreDriver) async throws {
        let scratch = try await ScratchDatastore.open(driver)
        let store = scratch.store
        try await store.prepare(Self.table)
        try await store.commit(Self.table, upserts: [["id": 1, "name": "a", "size": 1]], rows: [[2, "b", 2, ["t"]], [3, "c", .null, .null]], deletes: [])
        // A positional row replaces the whole row, nulls included.
        try await store.commit(Self.table, upserts: [], rows: [[1, "a2", .null, [1, 2]]], deletes: [3])
        let rows = try await store.query(Self.table, filters: [], options: QueryOptions())
        #expect(rows.arrayValue?.compactMap { $0["id"]?.intValue } == [1, 2])
        #expect(rows[0]?["name"] == "a2" && rows[0]?["size"] == .null && rows[0]?["tags"] == [1, 2])
        #expect(rows[1]?["tags"] == ["t"])
        // A row of the wrong length, or without an integer key, is refused and nothing of its batch is stored.
        for bad: [JSON] in [[4, "d", 4], [4, "d", 4, .null, "extra"], ["4", "d", 4, .null]] {
            await #expect(throws: CallError.self) {
                try await store.commit(Self.table, upserts: [["id": 9, "name": "z"]], rows: [bad], deletes: [1])
            }
        }
        let after = try await store.query(Self.table, filters: [], options: QueryOptions())
        #expect(after.arrayValue?.compactMap { $0["id"]?.intValue } == [1, 2])
        await scratch.discard()
    }

    @Test(arguments: DatastoreDriver.allCases)
    func aFailingCommitStoresNothing(driver: DatastoreDriver) async throws {
        let scratch = try await ScratchDatastore.open(driver)
        let store = scratch.store
        try await store.prepare(Self.table)
        try await store.commit(Self.table, upserts: [["id": 1, "name": "a", "size": 1]], deletes: [])
        // The second row clashes with the unique name of the first: the whole batch, delete included, is undone.
        await #expect(throws: CallError.self) {
            try await store.commit(Self.table, upserts: [["id": 5, "name": "e"], ["id": 6, "name": "a"]], deletes: [1])
        }
        let rows = try await store.query(Self.table, filters: [], options: QueryOptions())
        #expect(rows.arrayValue?.compactMap { $0["id"]?.intValue } == [1])
        await #expect(throws: CallError.self) {
            try await store.commit(Self.table, upserts: [["name": "no id"]], deletes: [])
        }
        await scratch.discard()
    }
}
