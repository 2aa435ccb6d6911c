import Foundation
import Synchronization

/// Compiled `pattern`/`patternProperties` regular expressions, shared by every schema in the process.
///
/// ECMA-262 is what JSON Schema asks for; ICU (behind NSRegularExpression) is the closest engine at hand.
final class PatternCache: Sendable {
    static let shared = PatternCache()

    private struct Entry: @unchecked Sendable {
        // NSRegularExpression is immutable after creation and documented as safe to use from several threads.
        let regex: NSRegularExpression?
    }

    private let cache = Mutex<[String: Entry]>([:])

    /// The compiled expression, or `nil` when `pattern` does not compile.
    func regex(_ pattern: String) -> NSRegularExpression? {
        if let entry = cache.withLock({ $0[pattern] }) { return entry.regex }
        let regex = try? NSRegularExpression(pattern: pattern, options: [])
        cache.withLock { entries in
            // Bounded: a client cannot grow this by sending patterns, only schemas registered by plugins can.
            if entries.count > 10_000 { entries.removeAll() }
            entries[pattern] = Entry(regex: regex)
        }
        return regex
    }

    /// Unanchored search, as JSON Schema's `pattern` means.
    func matches(_ pattern: String, _ string: String) -> Bool? {
        guard let regex = regex(pattern) else { return nil }
        let range = NSRange(string.startIndex..<string.endIndex, in: string)
        return regex.firstMatch(in: string, options: [], range: range) != nil
    }
}
