import SwitchboardCore

extension FuzzTarget {
    /// What one pattern did with one subject, gathered so that `checkRegex` judges it apart from the engine.
    struct RegexRun {
        var found: Bool
        /// The same pattern wrapped in `(?:…)`: nil when it failed to compile.
        var grouped: Bool?
        var compilesIgnoringCase: Bool
        /// The search under a small budget: its answer, or what it threw.
        var budgeted: Result<Bool, any Error>
        var used: Int
        var limit: Int
    }

    /// `PATTERN NUL SUBJECT`: compiling and searching never crash or loop; a refusal says why; grouping the
    /// whole pattern changes nothing; a pattern compiles ignoring case too; a small budget either gives the
    /// same answer or stops with E2BIG past its limit.
    static func regex(_ bytes: UnsafeRawBufferPointer) -> String? {
        let split = bytes.firstIndex(of: 0) ?? bytes.count
        let pattern = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<split]), as: UTF8.self)
        let subject = split < bytes.count ? String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(split + 1)...]), as: UTF8.self) : ""
        let regex: ECMARegex
        do {
            regex = try ECMARegex(compiling: pattern)
        } catch {
            return checkRefusal(reason: error.reason)
        }
        // A leading `(?i)` is a flag, outside the grammar: the group goes after it.
        let body = pattern.hasPrefix("(?i)") ? String(pattern.dropFirst(4)) : pattern
        let grouped = ECMARegex("(?:" + body + ")", ignoringCase: regex.ignoresCase)
        // Not a superset: `[^a]` finds "A" matching case and not ignoring it, as ECMA-262 says.
        let folded = ECMARegex(pattern, ignoringCase: true)
        _ = folded?.search(subject)
        let budget = MatchBudget(limit: 1_000)
        let budgeted = Result { try regex.search(subject, budget: budget) }
        return checkRegex(RegexRun(found: regex.search(subject), grouped: grouped?.search(subject), compilesIgnoringCase: folded != nil,
                                   budgeted: budgeted, used: budget.used, limit: budget.limit))
    }

    static func checkRefusal(reason: String) -> String? {
        reason.isEmpty ? "a refusal without a reason" : nil
    }

    static func checkRegex(_ run: RegexRun) -> String? {
        guard let grouped = run.grouped else { return "the pattern compiles, but not in a group" }
        if grouped != run.found { return "grouping the pattern changed the answer" }
        if !run.compilesIgnoringCase { return "the pattern compiles, but not ignoring case" }
        switch run.budgeted {
        case .success(let answer):
            if answer != run.found { return "a budget changed the answer" }
            if run.used > run.limit { return "the budget was overspent without a refusal" }
        case .failure(let error as CallError):
            if error.errno != Errno.E2BIG || run.used <= run.limit { return "a wrong refusal: \(error)" }
        case .failure(let error):
            return "unexpected \(error)"
        }
        return nil
    }
}
