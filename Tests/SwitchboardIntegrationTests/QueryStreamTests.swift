import Foundation
import Testing
import SwitchboardCore

/// A streamed answer, gathered fragment by fragment, is exactly the answer the query engine gives over all
/// the rows, on both drivers, whatever the page size; and no fragment is larger than a page or empty.
@Suite struct QueryStreamTests {
    static let cases: [(filters: JSON, options: JSON)] = [
        ([], [:]),
        ([], ["order_by": ["id"]]),
        ([], ["order_by": ["-id"]]),
        ([["size", ">", 0]], [:]),
        ([["name", "^", "a"]], ["order_by": ["-id"], "select": ["id", "name"]]),
        ([["meta.n", "=", 2]], [:]),
        ([["OR", [[["size", "<", -5]], [["enabled", "=", true]]]]], ["offset": 3]),
        ([], ["offset": 5, "limit": 11]),
        ([["size", "!=", nil]], ["order_by": ["-id"], "offset": 2, "limit": 4]),
        ([["name", "=", "nobody"]], [:]),
        ([], ["limit": 1]),
    ]

    @Test(arguments: DatastoreDriver.allCases)
    func fragmentsAddUpToTheEngineAnswer(driver: DatastoreDriver) async throws {
        let scratch = try await ScratchDatastore.open(driver)
        let table = DatastoreParityTests.table
        try await scratch.store.prepare(table)
        try await scratch.store.commit(table, upserts: DatastoreParityTests.rows, deletes: [])
        let all = DatastoreParityTests.rows.map(JSON.object)
        for (filterJSON, optionsJSON) in Self.cases {
            let (filters, options) = try QueryArguments.parse([filterJSON, optionsJSON])
            #expect(QueryStream.pages(options, primaryKey: "id"))
            let expected = try QueryEngine.run(all, filters: filters, options: options)
            for pageSize in [1, 7, 500] {
                // What the datastore can filter goes there; the engine checks everything again.
                let pushable = filters.filter { if case .condition(let c) = $0 { return c.field.simpleName != nil } else { return false } }
                let stream = QueryStream(datastore: scratch.store, table: table, pushable: pushable, filters: filters, options: options,
                                         pageSize: pageSize) { page in page.map(JSON.object) }
                var gathered: [JSON] = []
                while let fragment = try await stream.next() {
                    #expect(!fragment.isEmpty && fragment.count <= pageSize)
                    gathered += fragment
                }
                #expect(try await stream.next() == nil, "an ended stream stays ended")
                #expect(JSON.array(gathered) == expected, "\(filterJSON) \(optionsJSON) in pages of \(pageSize)")
            }
        }
        await scratch.discard()
    }

    @Test func onlyListsInKeyOrderArePaged() throws {
        for (options, pages) in [([:], true), (["order_by": ["id"]], true), (["order_by": ["-id"]], true), (["order_by": ["name"]], false),
                                 (["order_by": ["id", "name"]], false), (["count": true], false), (["get": true], false)] as [(JSON, Bool)] {
            #expect(QueryStream.pages(try QueryArguments.parse([[], options]).options, primaryKey: "id") == pages, "\(options)")
        }
    }

    @Test func aComputedAnswerIsHandedOutInFragmentsToo() async throws {
        let rows = (0..<1_201).map { JSON.int(Int64($0)) }
        let stream = QueryStream(rows: rows)
        var sizes: [Int] = []
        var gathered: [JSON] = []
        while let fragment = try await stream.next() {
            sizes.append(fragment.count)
            gathered += fragment
        }
        #expect(sizes == [500, 500, 201])
        #expect(gathered == rows)
        let empty = QueryStream(rows: [])
        #expect(try await empty.next() == nil)
    }
}
