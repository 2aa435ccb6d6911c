import Testing
@testable import SwitchboardCore

@Suite struct QueryEngineTests {
    static let rows: [JSON] = [
        ["id": 1, "name": "alpha", "uid": 0, "score": 1.5, "tags": ["a", "b"], "nested": ["x": 1, "list": [["v": 1], ["v": 2]]], "note": nil],
        ["id": 2, "name": "Beta", "uid": 1000, "score": 2.5, "tags": ["b"], "nested": ["x": 2, "list": [["v": 3]]], "note": "hello world"],
        ["id": 3, "name": "gamma", "uid": 1001, "score": nil, "tags": [], "nested": ["x": 3, "list": []], "note": "Hello"],
        ["id": 4, "name": "delta.x", "uid": 65534, "score": 0, "tags": ["c"], "nested": ["x": 4, "list": [["v": 2]]]],
    ]

    func ids(_ filters: JSON, _ options: JSON = [:]) throws -> [Int64] {
        let result = try QueryEngine.run(Self.rows, filters: QueryFilter.parseList(filters), options: QueryOptions.parse(options))
        return (result.arrayValue ?? []).compactMap { $0["id"]?.intValue }
    }

    @Test(arguments: [
        (JSON.array(["id", "=", 2]), [Int64(2)]),
        (JSON.array(["id", "!=", 2]), [1, 3, 4]),
        (JSON.array(["uid", ">", 1000]), [3, 4]),
        (JSON.array(["uid", ">=", 1000]), [2, 3, 4]),
        (JSON.array(["uid", "<", 1000]), [1]),
        (JSON.array(["uid", "<=", 1000]), [1, 2]),
        (JSON.array(["score", ">", 1]), [1, 2]),
        (JSON.array(["score", "=", nil]), [3]),
        (JSON.array(["note", "=", nil]), [1, 4]),
        (JSON.array(["name", "~", "^[a-g]a"]), [3]),
        (JSON.array(["name", "~", "ta"]), [2, 4]),
        (JSON.array(["id", "in", [1, 3, 9]]), [1, 3]),
        (JSON.array(["id", "nin", [1, 3]]), [2, 4]),
        (JSON.array(["tags", "rin", "b"]), [1, 2]),
        (JSON.array(["tags", "rnin", "b"]), [3, 4]),
        (JSON.array(["note", "rin", "world"]), [2]),
        (JSON.array(["name", "^", "al"]), [1]),
        (JSON.array(["name", "!^", "al"]), [2, 3, 4]),
        (JSON.array(["name", "$", "ta"]), [2]),
        (JSON.array(["name", "!$", "ta"]), [1, 3, 4]),
        (JSON.array(["name", "C=", "BETA"]), [2]),
        (JSON.array(["name", "C^", "BE"]), [2]),
        (JSON.array(["name", "C$", "TA"]), [2]),
        (JSON.array(["name", "C~", "^BE"]), [2]),
        (JSON.array(["name", "Cin", ["ALPHA", "GAMMA"]]), [1, 3]),
        (JSON.array(["note", "Crin", "HELLO"]), [2, 3]),
        (JSON.array(["nested.x", "=", 3]), [3]),
        (JSON.array(["nested.list.0.v", "=", 3]), [2]),
        (JSON.array(["nested.list.*.v", "=", 2]), [1, 4]),
        (JSON.array(["tags.0", "=", "b"]), [2]),
        (JSON.array(["missing", "=", nil]), [1, 2, 3, 4]),
        (JSON.array(["missing", ">", 1]), []),
    ])
    func singleOperator(filter: JSON, expected: [Int64]) throws {
        #expect(try ids([filter]) == expected)
    }

    @Test func andOrNesting() throws {
        #expect(try ids([["uid", ">", 0], ["name", "^", "g"]]) == [3])
        #expect(try ids([["OR", [["id", "=", 1], ["id", "=", 4]]]]) == [1, 4])
        // An inner list is an AND.
        #expect(try ids([["OR", [[["uid", ">", 0], ["score", "=", nil]], ["id", "=", 1]]]]) == [1, 3])
        #expect(try ids([["OR", [["id", "=", 1], ["OR", [["id", "=", 2], ["id", "=", 3]]]]]]) == [1, 2, 3])
        #expect(try ids([["OR", [["id", "=", 1], ["id", "=", 2]]], ["uid", ">", 0]]) == [2])
    }

    @Test func escapedDotInName() throws {
        let rows: [JSON] = [["a.b": 1, "id": 1], ["a": ["b": 1], "id": 2]]
        let r = try QueryEngine.run(rows, filters: QueryFilter.parseList([["a\\.b", "=", 1]]), options: QueryOptions())
        #expect(r.arrayValue?.count == 1)
        #expect(r[0]?["id"] == 1)
    }

    @Test func ordering() throws {
        #expect(try ids([], ["order_by": ["uid"]]) == [1, 2, 3, 4])
        #expect(try ids([], ["order_by": ["-uid"]]) == [4, 3, 2, 1])
        #expect(try ids([], ["order_by": ["score"]]) == [3, 4, 1, 2])  // null first ascending by default
        #expect(try ids([], ["order_by": ["-score"]]) == [2, 1, 4, 3])  // null last descending
        #expect(try ids([], ["order_by": ["nulls_last:score"]]) == [4, 1, 2, 3])
        #expect(try ids([], ["order_by": ["nulls_first:-score"]]) == [3, 2, 1, 4])
        #expect(try ids([], ["order_by": ["nested.x"]]) == [1, 2, 3, 4])
        #expect(try ids([], ["order_by": ["-nested.x"]]) == [4, 3, 2, 1])
        // Stable on ties, secondary key applies.
        let rows: [JSON] = [["id": 1, "g": 1, "n": "b"], ["id": 2, "g": 0, "n": "z"], ["id": 3, "g": 1, "n": "a"]]
        let r = try QueryEngine.run(rows, filters: [], options: QueryOptions.parse(["order_by": ["-g", "n"]]))
        #expect(r.arrayValue?.map { $0["id"]!.intValue! } == [3, 1, 2])
    }

    @Test func pagingCountGet() throws {
        #expect(try ids([], ["offset": 1, "limit": 2]) == [2, 3])
        #expect(try ids([], ["offset": 3]) == [4])
        #expect(try ids([], ["limit": 1]) == [1])
        #expect(try ids([], ["offset": 10]) == [])
        let count = try QueryEngine.run(Self.rows, filters: QueryFilter.parseList([["uid", ">", 0]]), options: QueryOptions.parse(["count": true]))
        #expect(count == 3)
        let one = try QueryEngine.run(Self.rows, filters: QueryFilter.parseList([["uid", ">", 0]]), options: QueryOptions.parse(["get": true, "order_by": ["-uid"]]))
        #expect(one["id"] == 4)
        #expect(throws: CallError(Errno.ENOENT, "MatchNotFound")) {
            try QueryEngine.run(Self.rows, filters: QueryFilter.parseList([["id", "=", 99]]), options: QueryOptions.parse(["get": true]))
        }
    }

    @Test func selection() throws {
        let r = try QueryEngine.run(Self.rows, filters: QueryFilter.parseList([["id", "=", 1]]),
                                    options: QueryOptions.parse(["select": ["id", "nested.x", ["name", "username"]]]))
        #expect(r == [["id": 1, "nested": ["x": 1], "username": "alpha"]])
    }

    @Test(arguments: [
        JSON("not a list"),
        JSON.array([["id", "="]]),
        JSON.array([["id", "==", 1]]),
        JSON.array([[1, "=", 1]]),
        JSON.array([["", "=", 1]]),
        JSON.array([["id", 5, 1]]),
        JSON.array([["id", "in", 1]]),
        JSON.array([["id", "~", 1]]),
        JSON.array([["name", "~", "("]]),
        JSON.array([["id", "^", 1]]),
        JSON.array([["OR", []]]),
        JSON.array([["OR", "x"]]),
        JSON.array([42]),
    ])
    func badFilters(filters: JSON) {
        #expect(throws: CallError.self) { try QueryFilter.parseList(filters) }
        do {
            _ = try QueryFilter.parseList(filters)
        } catch let error as CallError {
            #expect(error.errno == Errno.EINVAL)
            #expect(error.kind == .invalidParams)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test(arguments: [
        JSON.object(["bogus": true]),
        JSON.object(["limit": -1]),
        JSON.object(["limit": "5"]),
        JSON.object(["offset": 1.5]),
        JSON.object(["count": "yes"]),
        JSON.object(["order_by": "id"]),
        JSON.object(["order_by": [1]]),
        JSON.object(["order_by": ["-"]]),
        JSON.object(["select": [[1, 2]]]),
        JSON.object(["count": true, "get": true]),
        JSON.array([1]),
    ])
    func badOptions(options: JSON) {
        #expect(throws: CallError.self) { try QueryOptions.parse(options) }
    }

    @Test func typeMismatchIsAClearError() throws {
        // Comparing a number column with a string is an error naming the field, never a crash.
        #expect(throws: CallError.self) { try ids([["uid", ">", "abc"]]) }
        do {
            _ = try ids([["uid", ">", "abc"]])
        } catch let error as CallError {
            #expect(error.validation.first?.attribute == "uid")
        }
        // Equality across types is simply false.
        #expect(try ids([["uid", "=", "0"]]) == [])
        // rin on a number field is refused.
        #expect(throws: CallError.self) { try ids([["uid", "rin", 1]]) }
        // Mixed-type ordering still orders deterministically.
        let rows: [JSON] = [["v": "a"], ["v": 1], ["v": nil], ["v": true]]
        let r = try QueryEngine.run(rows, filters: [], options: QueryOptions.parse(["order_by": ["v"]]))
        #expect(r.arrayValue?.map { $0["v"]! } == [nil, true, 1, "a"])
    }
}

/// A query whose task is cancelled (its client left) stops instead of finishing the scan.
@Suite struct QueryCancellationTests {
    @Test func aCancelledQueryStops() async throws {
        let rows = (0..<100_000).map { JSON.object(["name": .string("row \($0) " + String(repeating: "x", count: 200))]) }
        let filters = try QueryFilter.parseList([["name", "~", "^(x|xx)+y$"]])
        let started = AsyncStream<Void>.makeStream()
        let task = Task {
            started.continuation.yield()
            // Unbounded, so that only the cancellation can end it early.
            return try MatchBudget.$taskLimit.withValue(Int.max) { try QueryEngine.run(rows, filters: filters, options: QueryOptions()) }
        }
        var iterator = started.stream.makeAsyncIterator()
        _ = await iterator.next()
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }
}
