extension ECMARegex {
    /// Scalars as sorted, disjoint closed ranges of their values.
    struct ScalarSet: Sendable {
        var ranges: [ClosedRange<UInt32>]

        static let empty = ScalarSet(ranges: [])
        static let digit = ScalarSet(ranges: [0x30...0x39])
        static let word = ScalarSet(ranges: [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A])
        /// WhiteSpace and LineTerminator of ECMA-262.
        static let space = ScalarSet(ranges: [0x09...0x0D, 0x20...0x20, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A,
                                              0x2028...0x2029, 0x202F...0x202F, 0x205F...0x205F, 0x3000...0x3000,
                                              0xFEFF...0xFEFF])
        static let lineTerminators = ScalarSet(ranges: [0x0A...0x0A, 0x0D...0x0D, 0x2028...0x2029])
        /// What `.` matches.
        static let dot = lineTerminators.inverted

        static func scalar(_ value: UInt32) -> ScalarSet { ScalarSet(ranges: [value...value]) }

        func contains(_ value: UInt32) -> Bool {
            for range in ranges {
                if value < range.lowerBound { return false }
                if value <= range.upperBound { return true }
            }
            return false
        }

        /// Every scalar value (surrogates included: they never occur in a String) not in the set.
        var inverted: ScalarSet {
            var result: [ClosedRange<UInt32>] = []
            var next: UInt32 = 0
            for range in ranges {
                if range.lowerBound > next { result.append(next...(range.lowerBound - 1)) }
                next = range.upperBound + 1
            }
            if next <= 0x10FFFF { result.append(next...0x10FFFF) }
            return ScalarSet(ranges: result)
        }

        func union(_ other: ScalarSet) -> ScalarSet {
            let sorted = (ranges + other.ranges).sorted { $0.lowerBound < $1.lowerBound }
            var merged: [ClosedRange<UInt32>] = []
            for range in sorted {
                if let last = merged.last, range.lowerBound <= last.upperBound &+ 1 {
                    merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
                } else {
                    merged.append(range)
                }
            }
            return ScalarSet(ranges: merged)
        }

        /// The one scalar of a set made from a single character, for a range's ends.
        var single: UInt32? {
            guard ranges.count == 1, ranges[0].lowerBound == ranges[0].upperBound else { return nil }
            return ranges[0].lowerBound
        }
    }

    /// What one position of a pattern accepts: a character, an escape such as `\d` or `\p{L}`, or a class.
    ///
    /// A negated class keeps its members and its negation apart, because ignoring case must look for the
    /// character's case variants among the members before negating: `/[^a]/i` refuses "A" (ECMA-262's
    /// CharacterSetMatcher), which inverting first would accept.
    struct CharacterClass: Sendable {
        var set: ScalarSet
        var properties: [UnicodeProperty] = []
        var negated = false

        init(_ set: ScalarSet, properties: [UnicodeProperty] = []) {
            self.set = set
            self.properties = properties
        }

        func matches(_ value: UInt32, ignoreCase: Bool) -> Bool {
            var found = contains(value)
            if !found, ignoreCase {
                found = ECMARegex.caseVariants(of: value).contains { contains($0) }
            }
            return found != negated
        }

        func contains(_ value: UInt32) -> Bool {
            if set.contains(value) { return true }
            if properties.isEmpty { return false }
            guard let scalar = Unicode.Scalar(value) else { return false }
            return properties.contains { $0.matches(scalar) }
        }

        /// Adds the members of `other`, itself never negated (only a whole class is).
        mutating func formUnion(_ other: CharacterClass) {
            set = set.union(other.set)
            properties += other.properties
        }

        /// The single character it was made from, for a range's ends.
        var single: UInt32? { properties.isEmpty && !negated ? set.single : nil }
    }

    /// The other cases of a character that ignoring case treats as equal to it: its simple (one-scalar)
    /// lower, upper and title case mappings, as ECMA-262's Canonicalize does with the `u` flag.
    static func caseVariants(of value: UInt32) -> [UInt32] {
        if value < 0x80 {
            switch value {
            case 0x41...0x5A: return [value + 0x20]
            case 0x61...0x7A: return [value - 0x20]
            default: return []
            }
        }
        guard let scalar = Unicode.Scalar(value) else { return [] }
        var variants: [UInt32] = []
        for mapping in [scalar.properties.lowercaseMapping, scalar.properties.uppercaseMapping,
                        scalar.properties.titlecaseMapping] {
            let scalars = mapping.unicodeScalars
            guard scalars.count == 1, let other = scalars.first?.value, other != value, !variants.contains(other) else { continue }
            variants.append(other)
        }
        return variants
    }
}
