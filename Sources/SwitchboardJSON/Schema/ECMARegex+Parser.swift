extension ECMARegex {
    /// ECMA-262's pattern grammar with the `u` flag's strictness (no Annex B leniency: a stray `]` or `{`,
    /// an unknown escape, or `\1` without a group is a syntax error, not a literal).
    struct Parser {
        let scalars: [Unicode.Scalar]
        var index = 0

        init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

        var atEnd: Bool { index == scalars.count }
        private var peek: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

        private mutating func take(_ scalar: Unicode.Scalar) -> Bool {
            guard peek == scalar else { return false }
            index += 1
            return true
        }

        private func syntax(_ what: String) -> Refusal {
            Refusal("invalid regular expression: \(what) at character \(index)")
        }

        static let syntaxCharacters: Set<Unicode.Scalar> = ["^", "$", "\\", ".", "*", "+", "?", "(", ")", "[", "]", "{", "}", "|"]
        static let backreference = Refusal("backreferences cannot be matched in linear time and are not supported")
        static let lookaround = Refusal("lookahead and lookbehind cannot be matched in linear time and are not supported")

        mutating func parsePattern() throws(Refusal) -> Node {
            let node = try parseDisjunction()
            guard atEnd else { throw syntax("unmatched ')'") }
            return node
        }

        mutating func parseDisjunction() throws(Refusal) -> Node {
            var alternatives: [Node] = []
            repeat {
                alternatives.append(try parseAlternative())
            } while take("|")
            return alternatives.count == 1 ? alternatives[0] : .alternation(alternatives)
        }

        private mutating func parseAlternative() throws(Refusal) -> Node {
            var terms: [Node] = []
            while let scalar = peek, scalar != "|", scalar != ")" {
                terms.append(try parseTerm())
            }
            return terms.count == 1 ? terms[0] : .sequence(terms)
        }

        private mutating func parseTerm() throws(Refusal) -> Node {
            // Assertions; a quantifier after one is "nothing to repeat", found by the next term.
            if take("^") { return .start }
            if take("$") { return .end }
            if peek == "\\", index + 1 < scalars.count, scalars[index + 1] == "b" || scalars[index + 1] == "B" {
                let wanted = scalars[index + 1] == "b"
                index += 2
                return .wordBoundary(wanted)
            }
            let atom = try parseAtom()
            guard let scalar = peek else { return atom }
            var minimum = 0
            var maximum: Int?
            switch scalar {
            case "*": index += 1
            case "+": index += 1; minimum = 1
            case "?": index += 1; maximum = 1
            case "{":
                index += 1
                minimum = try parseCount()
                maximum = minimum
                if take(",") {
                    maximum = peek == "}" ? nil : try parseCount()
                }
                guard take("}") else { throw syntax("expected '}'") }
                if let maximum, maximum < minimum { throw syntax("numbers out of order in {} quantifier") }
            default:
                return atom
            }
            _ = take("?")
            return .repetition(atom, minimum: minimum, maximum: maximum)
        }

        private mutating func parseCount() throws(Refusal) -> Int {
            var value = 0
            var digits = 0
            while let scalar = peek, ("0"..."9").contains(scalar) {
                value = value * 10 + Int(scalar.value - 0x30)
                digits += 1
                index += 1
                if value > ECMARegex.maxCount {
                    throw Refusal("a counted repetition may repeat at most \(ECMARegex.maxCount) times")
                }
            }
            guard digits > 0 else { throw syntax("expected a number in {} quantifier") }
            return value
        }

        private mutating func parseAtom() throws(Refusal) -> Node {
            guard let scalar = peek else { throw syntax("unexpected end") }
            index += 1
            switch scalar {
            case ".": return .set(CharacterClass(.dot))
            case "\\": return .set(try parseEscape(inClass: false))
            case "[": return .set(try parseClass())
            case "(":
                if take("?") {
                    if take(":") {
                        // A non-capturing group.
                    } else if take("=") || take("!") {
                        throw Self.lookaround
                    } else if take("<") {
                        if take("=") || take("!") { throw Self.lookaround }
                        try parseGroupName()
                    } else {
                        throw Refusal("inline flags and other (?...) groups are not ECMA-262 (only a leading (?i) is accepted)")
                    }
                }
                let inner = try parseDisjunction()
                guard take(")") else { throw syntax("missing ')'") }
                return inner
            default:
                if Self.syntaxCharacters.contains(scalar) {
                    index -= 1
                    throw syntax(["*", "+", "?", "{"].contains(scalar) ? "nothing to repeat" : "unexpected '\(scalar)'")
                }
                return .set(CharacterClass(.scalar(scalar.value)))
            }
        }

        /// After `(?<`: a name of identifier characters and `>`. Names only label groups, which matching ignores.
        private mutating func parseGroupName() throws(Refusal) {
            var length = 0
            while let scalar = peek, scalar != ">" {
                guard scalar.properties.isXIDContinue || scalar == "$" else { throw syntax("invalid group name") }
                index += 1
                length += 1
            }
            guard length > 0, take(">") else { throw syntax("invalid group name") }
        }

        /// After a backslash.
        private mutating func parseEscape(inClass: Bool) throws(Refusal) -> CharacterClass {
            guard let scalar = peek else { throw syntax("\\ at end of pattern") }
            index += 1
            switch scalar {
            case "d": return CharacterClass(.digit)
            case "D": return CharacterClass(ScalarSet.digit.inverted)
            case "w": return CharacterClass(.word)
            case "W": return CharacterClass(ScalarSet.word.inverted)
            case "s": return CharacterClass(.space)
            case "S": return CharacterClass(ScalarSet.space.inverted)
            case "t": return CharacterClass(.scalar(0x09))
            case "n": return CharacterClass(.scalar(0x0A))
            case "v": return CharacterClass(.scalar(0x0B))
            case "f": return CharacterClass(.scalar(0x0C))
            case "r": return CharacterClass(.scalar(0x0D))
            case "b" where inClass: return CharacterClass(.scalar(0x08))
            case "0":
                // `\0` followed by a digit is a legacy octal escape.
                if let next = peek, ("0"..."9").contains(next) { throw syntax("octal escapes are not allowed") }
                return CharacterClass(.scalar(0))
            case "1"..."9":
                if inClass { throw syntax("invalid escape in a class") }
                throw Self.backreference
            case "k":
                if inClass { throw syntax("invalid escape in a class") }
                throw Self.backreference
            case "c":
                guard let letter = peek, ("a"..."z").contains(letter) || ("A"..."Z").contains(letter) else {
                    throw syntax("\\c must be followed by a letter")
                }
                index += 1
                return CharacterClass(.scalar(letter.value % 32))
            case "x":
                return CharacterClass(.scalar(try parseHex(digits: 2)))
            case "u":
                return CharacterClass(.scalar(try parseUnicodeEscape()))
            case "p", "P":
                guard take("{") else { throw syntax("\\\(scalar) must be followed by {name}") }
                var body = ""
                while let next = peek, next != "}" {
                    body.unicodeScalars.append(next)
                    index += 1
                }
                guard take("}"), !body.isEmpty else { throw syntax("unterminated \\\(scalar){...}") }
                switch UnicodeProperty.named(body, negated: scalar == "P") {
                case .success(let property): return CharacterClass(.empty, properties: [property])
                case .failure(let refusal): throw refusal
                }
            case "/":
                return CharacterClass(.scalar(scalar.value))
            case "-" where inClass:
                return CharacterClass(.scalar(scalar.value))
            default:
                guard Self.syntaxCharacters.contains(scalar) else { throw syntax("invalid escape \\\(scalar)") }
                return CharacterClass(.scalar(scalar.value))
            }
        }

        private mutating func parseHex(digits: Int) throws(Refusal) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<digits {
                guard let scalar = peek, let digit = Self.hexValue(scalar) else {
                    throw syntax("expected \(digits) hexadecimal digits")
                }
                value = value * 16 + digit
                index += 1
            }
            return value
        }

        static func hexValue(_ scalar: Unicode.Scalar) -> UInt32? {
            switch scalar {
            case "0"..."9": return scalar.value - 0x30
            case "a"..."f": return scalar.value - 0x61 + 10
            case "A"..."F": return scalar.value - 0x41 + 10
            default: return nil
            }
        }

        /// After `\u`: `{H...}`, or four digits, a surrogate pair of two such escapes making one scalar.
        private mutating func parseUnicodeEscape() throws(Refusal) -> UInt32 {
            if take("{") {
                var value: UInt32 = 0
                var digits = 0
                while let scalar = peek, let digit = Self.hexValue(scalar) {
                    value = value * 16 + digit
                    digits += 1
                    index += 1
                    guard value <= 0x10FFFF else { throw syntax("code point out of range") }
                }
                guard digits > 0, take("}") else { throw syntax("invalid \\u{...} escape") }
                return value
            }
            let value = try parseHex(digits: 4)
            if (0xD800...0xDBFF).contains(value), index + 1 < scalars.count, scalars[index] == "\\", scalars[index + 1] == "u" {
                let saved = index
                index += 2
                if let low = try? parseHex(digits: 4), (0xDC00...0xDFFF).contains(low) {
                    return 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                }
                index = saved
            }
            return value
        }

        /// After `[`.
        private mutating func parseClass() throws(Refusal) -> CharacterClass {
            let negated = take("^")
            var members = CharacterClass(.empty)
            while !take("]") {
                let low = try parseClassAtom()
                if peek == "-", index + 1 < scalars.count, scalars[index + 1] != "]" {
                    index += 1
                    let high = try parseClassAtom()
                    guard let lowValue = low.single, let highValue = high.single else {
                        throw syntax("a class escape cannot be the end of a range")
                    }
                    guard lowValue <= highValue else { throw syntax("range out of order in character class") }
                    members.formUnion(CharacterClass(ScalarSet(ranges: [lowValue...highValue])))
                } else {
                    members.formUnion(low)
                }
            }
            members.negated = negated
            return members
        }

        private mutating func parseClassAtom() throws(Refusal) -> CharacterClass {
            guard let scalar = peek else { throw syntax("missing ']'") }
            index += 1
            if scalar == "\\" { return try parseEscape(inClass: true) }
            return CharacterClass(.scalar(scalar.value))
        }
    }
}
