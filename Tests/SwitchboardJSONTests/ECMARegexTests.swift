import Foundation
import Testing
@testable import SwitchboardJSON

/// Switchboard's own engine for the common subset of ECMA-262 patterns: the same answers as ICU where the two
/// dialects agree, ECMA-262's where they differ, and the rest left to ICU.
@Suite struct ECMARegexTests {
    static func icu(_ pattern: String, _ string: String) -> Bool? {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return nil }
        return icu(regex, string)
    }

    static func icu(_ regex: NSRegularExpression, _ string: String) -> Bool {
        regex.firstMatch(in: string, range: NSRange(string.startIndex..<string.endIndex, in: string)) != nil
    }

    static let patterns = [
        "a", "abc", "^abc$", "^a", "c$", "a|b", "^(a|bc)+$", "(?:ab)*c", "a*", "a+b", "a?b?c", "^a{2}$", "^a{1,3}$",
        "^a{2,}$", "a{0}", "^[abc]+$", "^[^abc]*$", "[a-c][0-9]", "^[A-Za-z_][A-Za-z0-9_.-]*$", "^[A-Z][A-Z0-9_]*$",
        "^[a-z]{2,3}(_[A-Za-z]{2,4})?$", "\\d+", "^\\D*$", "\\w\\W", "\\s", "^\\S+$", "a.c", "^.*$", "^(a*)*$",
        "^(a|)+b", "x*?y", "a+?", "^a{1,2}?b", "\\.", "\\^\\$\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\\\\\/", "[\\-a]", "[a-]",
        "[-a]", "[\\d_]+", "[^\\d]", "[\\s\\S]", "[.]", "[$^]", "()", "(?:)", "^(?:a|b|c)(?:d|e)$", "a\\tb",
        "^[\\w-]+@[\\w-]+\\.[a-z]{2,}$", "^(\\d{1,3}\\.){3}\\d{1,3}$", "^/api/v[0-9]+/", "[ab]{3}", "^[^/]+$",
    ]

    static let inputs = [
        "", "a", "b", "c", "abc", "aabc", "ab", "bc", "aa", "aaa", "aaaa", "xyz", "a1", "b2c3", "123", "1 2", "a b",
        "ABC_1", "_user.name-2", "Admin", "9lives", "en", "en_US", "fra_Latn", "e", "x.y", "a\tb", "foo@bar.com",
        "192.168.0.1", "1.2.3", "/api/v2/user", "a/b", "^$*+?()[]{}|\\/", "-", ".", "xy", "xxy", "bab", "a.c", "abbc",
    ]

    @Test func agreesWithICUWhereTheDialectsAgree() throws {
        for pattern in Self.patterns {
            let regex = try #require(ECMARegex(pattern), "refused: \(pattern)")
            let reference = try NSRegularExpression(pattern: pattern)
            for input in Self.inputs {
                #expect(regex.search(input) == Self.icu(reference, input), "/\(pattern)/ on \(input.debugDescription)")
            }
        }
        // The empty pattern matches everywhere (NSRegularExpression refuses it).
        #expect(try #require(ECMARegex("")).search(""))
        #expect(try #require(ECMARegex("")).search("x"))
    }

    /// Random patterns of the subset against random ASCII strings (no line terminators, no \v: there ICU's
    /// `$` and `\s` differ from ECMA-262's), with a fixed seed so that a failure reproduces. Groups are at
    /// most optional: ICU stops a loop over a group that can match empty too early (see
    /// `ecmaMeaningsWhereICUDiffers`), so looping them would test ICU's bug.
    @Test func agreesWithICUOnRandomPatterns() throws {
        var rng = SplitMix(seed: 0x5eed)
        let atoms = ["a", "b", "c", "1", " ", ".", "[ab]", "[^a]", "[a-c1]", "\\d", "\\w", "\\s", "\\D", "\\W", "_", "-"]
        let quantifiers = ["", "", "", "*", "+", "?", "{2}", "{1,3}", "{0,2}", "{2,}", "*?", "+?", "??"]
        func term(_ depth: Int) -> String {
            switch rng.next(10) {
            case 0 where depth < 2: return "(?:" + sequence(depth + 1) + ")" + ["", "?"][rng.next(2)]
            case 1 where depth < 2: return "(" + sequence(depth + 1) + "|" + sequence(depth + 1) + ")" + ["", "?"][rng.next(2)]
            default: return atoms[rng.next(atoms.count)] + quantifiers[rng.next(quantifiers.count)]
            }
        }
        func sequence(_ depth: Int) -> String {
            (0..<(1 + rng.next(3))).map { _ in term(depth) }.joined()
        }
        let alphabet = Array("abc1 _-x")
        var checked = 0
        for _ in 0..<400 {
            let pattern = (rng.next(3) == 0 ? "^" : "") + sequence(0) + (rng.next(3) == 0 ? "$" : "")
            let regex = try #require(ECMARegex(pattern), "refused: \(pattern)")
            let reference = try NSRegularExpression(pattern: pattern)
            for _ in 0..<12 {
                let input = String((0..<rng.next(9)).map { _ in alphabet[rng.next(alphabet.count)] })
                #expect(regex.search(input) == Self.icu(reference, input), "/\(pattern)/ on \(input.debugDescription)")
                checked += 1
            }
        }
        #expect(checked == 4_800)
    }

    @Test func ecmaMeaningsWhereICUDiffers() throws {
        let username = try #require(ECMARegex("^[A-Za-z_][A-Za-z0-9_.-]*$"))
        // ICU's `$` also matches before a final newline; ECMA-262's only at the end.
        #expect(Self.icu("^[A-Za-z_][A-Za-z0-9_.-]*$", "admin\n") == true)
        #expect(!username.search("admin\n"))
        #expect(username.search("admin"))
        // `\d` is ASCII: ARABIC-INDIC DIGIT THREE is not a digit here (ICU says it is).
        #expect(Self.icu("^\\d$", "\u{663}") == true)
        #expect(try #require(ECMARegex("^\\d$")).search("\u{663}") == false)
        #expect(try #require(ECMARegex("^\\w+$")).search("é") == false)
        // `.` is any character but a line terminator; characters are scalars.
        let dot = try #require(ECMARegex("^.$"))
        #expect(dot.search("😀"))
        #expect(dot.search("é"))
        #expect(!dot.search("\n"))
        #expect(!dot.search("\u{2028}"))
        // `\s` includes ECMA-262's line terminators and \v, \u{FEFF}.
        let space = try #require(ECMARegex("^\\s+$"))
        #expect(space.search("\u{0B}\u{FEFF}\u{3000}\u{2029}"))
        // ICU ends a loop over a group that matched empty before trying what follows; any string matches
        // "zero repetitions, then the end".
        #expect(Self.icu("(\\d*[ab]??|\\D\\D)*?$", "c") == false)
        #expect(try #require(ECMARegex("(\\d*[ab]??|\\D\\D)*?$")).search("c"))
        #expect(try #require(ECMARegex("^(?:\\w?(?:\\W*?))*?_{0,2}\\w{1,3}$")).search("-  c"))
        // Empty classes.
        #expect(try #require(ECMARegex("[]")).search("a") == false)
        #expect(try #require(ECMARegex("^[^]$")).search("\n"))
    }

    @Test func refusesWhatCannotRunInLinearTimeWithTheReason() throws {
        for pattern in ["(?=a)", "(?!a)", "(?<=a)b", "(?<!a)b"] {
            #expect(throws: ECMARegex.Parser.lookaround) { try ECMARegex(compiling: pattern) }
        }
        for pattern in ["(a)\\1", "(?<n>a)\\k<n>", "^(a+)\\1$"] {
            #expect(throws: ECMARegex.Parser.backreference) { try ECMARegex(compiling: pattern) }
        }
        #expect(throws: ECMARegex.Compiler.tooLarge) { try ECMARegex(compiling: "(a{1000}){1000}") }
        let flags = try #require(throws: ECMARegex.Refusal.self) { try ECMARegex(compiling: "a(?i)b") }
        #expect(flags.reason.contains("only a leading (?i)"))
        let script = try #require(throws: ECMARegex.Refusal.self) { try ECMARegex(compiling: "\\p{Script=Greek}") }
        #expect(script.reason.contains("Script=Greek"))
    }

    @Test func refusesMalformedPatterns() {
        for pattern in ["\\012", "a{", "a{,2}", "}", "]", "*a", "a**", "a{3,2}", "(a", "a)", "[a", "[z-a]", "[\\d-z]",
                        "^*", "\\", "a{1001}", "\\c1", "\\x4", "\\u12", "\\u{110000}", "\\p{Nope}", "\\p{L", "\\q", "(?<>a)",
                        "\\b+", "[\\B]", "\\-"] {
            #expect(ECMARegex(pattern) == nil, "accepted: \(pattern)")
        }
    }

    @Test func escapesAssertionsAndPropertiesBeyondTheCommonSubset() throws {
        func matches(_ pattern: String, _ input: String) throws -> Bool { try #require(ECMARegex(pattern), "refused \(pattern)").search(input) }
        #expect(try matches("\\bfoo\\b", "a foo b"))
        #expect(try !matches("\\bfoo\\b", "afoo b"))
        #expect(try matches("^\\B.\\B", "abc") == false)
        #expect(try matches("\\B", "abc"))
        #expect(try matches("^\\u0041\\x42\\u{43}$", "ABC"))
        #expect(try matches("^\\uD83D\\uDE00$", "😀"))
        #expect(try matches("^\\cJ$", "\n"))
        #expect(try matches("^(?<word>\\w+)$", "abc"))
        #expect(try matches("^\\p{Letter}+$", "héllo"))
        #expect(try !matches("^\\p{L}+$", "h3llo"))
        #expect(try matches("^\\P{L}+$", "123 !"))
        #expect(try matches("^[\\p{Lu}\\d]+$", "AB12"))
        #expect(try !matches("^[^\\p{Lu}]+$", "aB"))
        #expect(try matches("^\\p{gc=Nd}$", "\u{663}"))
        #expect(try matches("^\\p{White_Space}$", "\u{3000}"))
    }

    @Test func ignoringCaseFollowsECMA262() throws {
        let admin = try #require(ECMARegex("^admin$", ignoringCase: true))
        #expect(admin.search("ADMIN"))
        #expect(admin.search("Admin"))
        #expect(!admin.search("ADMINS"))
        #expect(try #require(ECMARegex("(?i)^ÉTÉ$")).search("été"))
        #expect(try #require(ECMARegex("^[a-c]+$", ignoringCase: true)).search("AbC"))
        // The members are looked up before the negation: "A" is a case variant of a member of [^a].
        #expect(!(try #require(ECMARegex("^[^a]$", ignoringCase: true)).search("A")))
        #expect(try #require(ECMARegex("^[^a]$", ignoringCase: true)).search("b"))
        #expect(!(try #require(ECMARegex("^admin$")).search("ADMIN")))
    }

    @Test func patternCacheReportsRefusalsAndKeepsCaseApart() throws {
        let cache = PatternCache()
        #expect(cache.matches("^[a-z]+$", "admin\n") == false)
        #expect(cache.matches("(", "x") == nil)
        #expect(cache.matches("(?=a)a", "a") == nil)
        if case .success(let regex) = cache.compiled("abc", ignoringCase: true) { #expect(regex.search("xABCx")) } else { Issue.record("refused") }
        if case .success(let regex) = cache.compiled("abc") { #expect(!regex.search("xABCx")) } else { Issue.record("refused") }
    }

    /// A backtracking engine takes time exponential in the input for these; the NFA is linear.
    @Test func noCatastrophicBacktracking() throws {
        let run = String(repeating: "a", count: 20_000)
        #expect(try #require(ECMARegex("^(a*)*b$")).search(run) == false)
        #expect(try #require(ECMARegex("^(a|a)+$")).search(run + "!") == false)
        #expect(try #require(ECMARegex("(a+)+b")).search(run) == false)
        #expect(try #require(ECMARegex("^(a{1,10}){1,10}$")).search(String(repeating: "a", count: 100)))
        #expect(try #require(ECMARegex("^(a{1,10}){1,10}$")).search(String(repeating: "a", count: 101)) == false)
    }
}
