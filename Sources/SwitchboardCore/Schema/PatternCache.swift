import Foundation
import Synchronization

/// Compiled `pattern`/`patternProperties` regular expressions (and query `~` filters), shared by every user in
/// the process.
///
/// JSON Schema asks for ECMA-262. The common subset (`ECMARegex`) is matched by Switchboard's own engine:
/// ECMA-262's meanings, linear time whatever the pattern, and no ICU, whose regex engine and character
/// tables cost 1.5 MiB of resident memory from the first use. Patterns beyond the subset (lookaround,
/// backreferences, `\b`, `\p{...}`, inline flags such as the `(?i)` of case-insensitive queries) go to ICU
/// through NSRegularExpression, the closest engine at hand.
final class PatternCache: Sendable {
    static let shared = PatternCache()

    enum Compiled: @unchecked Sendable {
        case native(ECMARegex)
        // NSRegularExpression is immutable after creation and documented as safe to use from several threads.
        case icu(NSRegularExpression)
        case invalid
    }

    private let cache = Mutex<[String: Compiled]>([:])

    func compiled(_ pattern: String) -> Compiled {
        if let compiled = cache.withLock({ $0[pattern] }) { return compiled }
        let compiled: Compiled
        if let native = ECMARegex(pattern) {
            compiled = .native(native)
        } else if let regex = try? NSRegularExpression(pattern: pattern, options: []) {
            compiled = .icu(regex)
        } else {
            compiled = .invalid
        }
        cache.withLock { entries in
            // Bounded: query filters bring patterns from clients.
            if entries.count > 10_000 { entries.removeAll() }
            entries[pattern] = compiled
        }
        return compiled
    }

    /// Whether `pattern` is a regular expression either engine takes.
    func compiles(_ pattern: String) -> Bool {
        if case .invalid = compiled(pattern) { return false }
        return true
    }

    /// Unanchored search, as JSON Schema's `pattern` means; `nil` when the pattern does not compile.
    func matches(_ pattern: String, _ string: String) -> Bool? {
        switch compiled(pattern) {
        case .native(let regex):
            return regex.search(string)
        case .icu(let regex):
            let range = NSRange(string.startIndex..<string.endIndex, in: string)
            return regex.firstMatch(in: string, options: [], range: range) != nil
        case .invalid:
            return nil
        }
    }
}
