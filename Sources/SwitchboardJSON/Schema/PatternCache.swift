import Synchronization

/// Compiled `pattern`/`patternProperties` regular expressions and query `~` filters, shared by every user in
/// the process.
///
/// Every pattern runs on `ECMARegex`, in linear time: there is no fallback to a backtracking engine, so no
/// pattern, whoever wrote it, can make a match take exponential time. Patterns it refuses (backreferences,
/// lookaround) are refused with the reason, at schema use or in the query's error.
public final class PatternCache: Sendable {
    public static let shared = PatternCache()

    struct Key: Hashable {
        var pattern: String
        var ignoringCase: Bool
    }

    private let cache = Mutex<[Key: Result<ECMARegex, ECMARegex.Refusal>]>([:])

    /// Bounded: query filters bring patterns from clients.
    static let capacity = 10_000

    public func compiled(_ pattern: String, ignoringCase: Bool = false) -> Result<ECMARegex, ECMARegex.Refusal> {
        let key = Key(pattern: pattern, ignoringCase: ignoringCase)
        if let compiled = cache.withLock({ $0[key] }) { return compiled }
        let compiled: Result<ECMARegex, ECMARegex.Refusal>
        do {
            compiled = .success(try ECMARegex(compiling: pattern, ignoringCase: ignoringCase))
        } catch {
            compiled = .failure(error)
        }
        cache.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll() }
            entries[key] = compiled
        }
        return compiled
    }

    /// Unanchored search, as JSON Schema's `pattern` means; `nil` when the pattern is refused.
    public func matches(_ pattern: String, _ string: String) -> Bool? {
        switch compiled(pattern) {
        case .success(let regex): return regex.search(string)
        case .failure: return nil
        }
    }
}
