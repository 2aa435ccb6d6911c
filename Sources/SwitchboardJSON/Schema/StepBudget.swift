/// What a regular-expression search charges its steps to, so that its caller can bound the work a pattern
/// chosen by a client may cost (Core's `MatchBudget` bounds one query's).
public protocol StepBudget: AnyObject {
    /// - Throws: whatever the budget refuses with when it runs out (or its task is cancelled).
    func spend(_ steps: Int) throws
}
