/// The regular-expression steps one query may spend, across every row and every `~` filter it tests.
///
/// `ECMARegex` is linear in its input, but a client picks the pattern (up to 20,000 instructions), the rows
/// and their number, so one query could still keep a core busy for minutes. Charging each step here bounds
/// that: past `limit` the query fails with E2BIG and the figures in `extra`, and a query whose client has
/// gone (its task cancelled) stops at the next check instead of finishing work nobody will read.
///
/// Not thread-safe: a budget belongs to one query, evaluated on one task.
public final class MatchBudget: StepBudget {
    public let limit: Int
    public private(set) var used = 0
    private var nextCancellationCheck = MatchBudget.cancellationInterval

    /// Steps between two looks at the task's cancellation: about a millisecond of matching.
    static let cancellationInterval = 1 << 16

    /// The default `security.query-match-steps`: about a tenth of a second of one core.
    public static let defaultLimit = 10_000_000

    /// The limit of the calling task: what the daemon configured, bound around every call.
    @TaskLocal public static var taskLimit = MatchBudget.defaultLimit

    public init(limit: Int = MatchBudget.taskLimit) {
        self.limit = limit
    }

    /// - Throws: `CallError` E2BIG past the limit; `CancellationError` once the task is cancelled.
    public func spend(_ steps: Int) throws {
        used += steps
        if used > limit {
            throw CallError(Errno.E2BIG, "Query exceeded its budget of \(limit) regular expression steps; narrow the filters or the pattern",
                            extra: ["budget": .int(Int64(limit)), "steps": .int(Int64(used))])
        }
        if used >= nextCancellationCheck {
            nextCancellationCheck = used + Self.cancellationInterval
            try Task.checkCancellation()
        }
    }
}
