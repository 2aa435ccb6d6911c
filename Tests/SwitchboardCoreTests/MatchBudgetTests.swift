import Testing
@testable import SwitchboardCore

/// A query's budget, charged by the regex engine as it searches.
@Suite struct MatchBudgetTests {
    /// The budget is charged per step and stops the search; the figures it reports are the caller's error.
    @Test func budgetStopsASearchAndReportsItsFigures() throws {
        let regex = try #require(ECMARegex("^(a+)+$"))
        let input = String(repeating: "a", count: 5_000) + "!"
        let generous = MatchBudget(limit: 1_000_000)
        #expect(try regex.search(input, budget: generous) == false)
        #expect(generous.used > 5_000)
        let tight = MatchBudget(limit: 1_000)
        let error = try #require(throws: CallError.self) { try regex.search(input, budget: tight) }
        #expect(error.errno == Errno.E2BIG)
        #expect(error.extra["budget"]?.intValue == 1_000)
        #expect((error.extra["steps"]?.intValue ?? 0) > 1_000)
    }
}
