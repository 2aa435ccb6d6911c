/// The common subset of ECMA-262 regular expressions, the dialect JSON Schema's `pattern` is written in,
/// matched without ICU.
///
/// The subset: literals, `.`, classes (`[a-z_]`, `[^...]`, with `\d \w \s` and their negations inside),
/// `\d \D \w \W \s \S`, the control escapes `\t \n \v \f \r \0`, escaped syntax characters, groups `(...)`
/// and `(?:...)`, alternation, the quantifiers `* + ? {n} {n,} {n,m}` (greedy or lazy, which cannot change a
/// yes/no answer) and the anchors `^ $`. `init` refuses anything else (lookaround, backreferences, `\b`,
/// `\p{...}`, `\u` escapes, inline flags), and the caller hands such a pattern to another engine.
///
/// ECMA-262's meanings, not ICU's: `\d` and `\w` are ASCII, `$` is the end of the string only (ICU also
/// matches before a final newline, so `^[a-z]+$` accepted "admin\n"), `.` is any character but a line
/// terminator. Characters are Unicode scalars, as with ECMA-262's `u` flag.
///
/// Matching simulates the pattern's NFA (Thompson's construction) over the input, all alternatives in step:
/// time is linear in the input for every pattern, so no pattern can be driven into exponential
/// backtracking (`^(a*)*b$` against a long run of `a`s), whoever wrote it.
public struct ECMARegex: Sendable {
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
    }

    indirect enum Node {
        case set(ScalarSet)
        case start
        case end
        case sequence([Node])
        case alternation([Node])
        /// `maximum` nil: unbounded.
        case repetition(Node, minimum: Int, maximum: Int?)
    }

    enum Instruction: Sendable {
        case scalar(ScalarSet)
        /// Continue at both targets.
        case split(Int, Int)
        case jump(Int)
        case assertStart
        case assertEnd
        case match
    }

    /// Bounds that keep a compiled pattern small: counted repetition is compiled by copying its operand.
    static let maxCount = 1_000
    static let maxInstructions = 20_000

    let program: [Instruction]

    /// `nil` when `pattern` is outside the subset (or not a valid ECMA-262 pattern at all).
    public init?(_ pattern: String) {
        var parser = Parser(Array(pattern.unicodeScalars))
        guard let node = parser.parseDisjunction(), parser.atEnd else { return nil }
        var compiler = Compiler()
        guard compiler.emit(node) else { return nil }
        compiler.program.append(.match)
        guard compiler.program.count <= Self.maxInstructions else { return nil }
        program = compiler.program
    }

    /// Whether the pattern matches anywhere in `string` (JSON Schema's `pattern` is not anchored).
    public func search(_ string: String) -> Bool {
        let input = Array(string.unicodeScalars)
        var simulation = Simulation(program: program, count: input.count)
        var current: [Int] = []
        var next: [Int] = []
        simulation.add(0, at: 0, to: &current)
        var position = 0
        while !simulation.matched, position < input.count {
            let value = input[position].value
            position += 1
            simulation.generation += 1
            for pc in current {
                if case .scalar(let set) = program[pc], set.contains(value) { simulation.add(pc + 1, at: position, to: &next) }
            }
            // A match may also begin here.
            simulation.add(0, at: position, to: &next)
            swap(&current, &next)
            next.removeAll(keepingCapacity: true)
        }
        return simulation.matched
    }

    /// The threads of one step: every instruction reachable without consuming input is visited once.
    private struct Simulation {
        let program: [Instruction]
        let count: Int
        var marks: [Int]
        var generation = 0
        var matched = false
        var stack: [Int] = []

        init(program: [Instruction], count: Int) {
            self.program = program
            self.count = count
            self.marks = Array(repeating: -1, count: program.count)
        }

        mutating func add(_ start: Int, at position: Int, to list: inout [Int]) {
            stack.append(start)
            while let pc = stack.popLast() {
                if marks[pc] == generation { continue }
                marks[pc] = generation
                switch program[pc] {
                case .scalar: list.append(pc)
                case .split(let first, let second):
                    stack.append(second)
                    stack.append(first)
                case .jump(let target): stack.append(target)
                case .assertStart: if position == 0 { stack.append(pc + 1) }
                case .assertEnd: if position == count { stack.append(pc + 1) }
                case .match: matched = true
                }
            }
        }
    }

    private struct Compiler {
        var program: [Instruction] = []

        /// `false` when the program outgrows `maxInstructions`.
        mutating func emit(_ node: Node) -> Bool {
            guard program.count <= ECMARegex.maxInstructions else { return false }
            switch node {
            case .set(let set): program.append(.scalar(set))
            case .start: program.append(.assertStart)
            case .end: program.append(.assertEnd)
            case .sequence(let nodes):
                for node in nodes where !emit(node) { return false }
            case .alternation(let alternatives):
                var jumps: [Int] = []
                for (index, alternative) in alternatives.enumerated() {
                    if index == alternatives.count - 1 {
                        guard emit(alternative) else { return false }
                    } else {
                        let split = program.count
                        program.append(.split(split + 1, -1))
                        guard emit(alternative) else { return false }
                        jumps.append(program.count)
                        program.append(.jump(-1))
                        program[split] = .split(split + 1, program.count)
                    }
                }
                for jump in jumps { program[jump] = .jump(program.count) }
            case .repetition(let operand, let minimum, let maximum):
                for _ in 0..<minimum where !emit(operand) { return false }
                if let maximum {
                    // Each optional copy may be skipped, which ends the repetition.
                    var splits: [Int] = []
                    for _ in minimum..<maximum {
                        splits.append(program.count)
                        program.append(.split(program.count + 1, -1))
                        guard emit(operand) else { return false }
                    }
                    for split in splits { program[split] = .split(split + 1, program.count) }
                } else {
                    let loop = program.count
                    program.append(.split(loop + 1, -1))
                    guard emit(operand) else { return false }
                    program.append(.jump(loop))
                    program[loop] = .split(loop + 1, program.count)
                }
            }
            return true
        }
    }

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

        static let syntaxCharacters: Set<Unicode.Scalar> = ["^", "$", "\\", ".", "*", "+", "?", "(", ")", "[", "]", "{", "}", "|"]

        mutating func parseDisjunction() -> Node? {
            var alternatives: [Node] = []
            repeat {
                guard let alternative = parseAlternative() else { return nil }
                alternatives.append(alternative)
            } while take("|")
            return alternatives.count == 1 ? alternatives[0] : .alternation(alternatives)
        }

        private mutating func parseAlternative() -> Node? {
            var terms: [Node] = []
            while let scalar = peek, scalar != "|", scalar != ")" {
                guard let term = parseTerm() else { return nil }
                terms.append(term)
            }
            return terms.count == 1 ? terms[0] : .sequence(terms)
        }

        private mutating func parseTerm() -> Node? {
            // A quantified assertion is a syntax error.
            if take("^") { return .start }
            if take("$") { return .end }
            guard let atom = parseAtom() else { return nil }
            guard let scalar = peek else { return atom }
            var minimum = 0
            var maximum: Int?
            switch scalar {
            case "*": index += 1
            case "+": index += 1; minimum = 1
            case "?": index += 1; maximum = 1
            case "{":
                index += 1
                guard let low = parseCount() else { return nil }
                minimum = low
                maximum = low
                if take(",") {
                    maximum = peek == "}" ? nil : parseCount()
                    if peek != "}" { return nil }
                }
                guard take("}") else { return nil }
                if let maximum, maximum < minimum { return nil }
            default:
                return atom
            }
            _ = take("?")
            return .repetition(atom, minimum: minimum, maximum: maximum)
        }

        private mutating func parseCount() -> Int? {
            var value = 0
            var digits = 0
            while let scalar = peek, ("0"..."9").contains(scalar) {
                value = value * 10 + Int(scalar.value - 0x30)
                digits += 1
                index += 1
                if value > ECMARegex.maxCount { return nil }
            }
            return digits > 0 ? value : nil
        }

        private mutating func parseAtom() -> Node? {
            guard let scalar = peek else { return nil }
            index += 1
            switch scalar {
            case ".": return .set(.dot)
            case "\\": return parseEscape(inClass: false).map { .set($0) }
            case "[": return parseClass()
            case "(":
                if take("?") {
                    guard take(":") else { return nil }
                }
                guard let inner = parseDisjunction(), take(")") else { return nil }
                return inner
            default:
                // `)`, `]`, `{`, `}` and quantifiers out of place: a syntax error or an Annex B oddity.
                if Self.syntaxCharacters.contains(scalar) { return nil }
                return .set(.scalar(scalar.value))
            }
        }

        /// After a backslash.
        private mutating func parseEscape(inClass: Bool) -> ScalarSet? {
            guard let scalar = peek else { return nil }
            index += 1
            switch scalar {
            case "d": return .digit
            case "D": return ScalarSet.digit.inverted
            case "w": return .word
            case "W": return ScalarSet.word.inverted
            case "s": return .space
            case "S": return ScalarSet.space.inverted
            case "t": return .scalar(0x09)
            case "n": return .scalar(0x0A)
            case "v": return .scalar(0x0B)
            case "f": return .scalar(0x0C)
            case "r": return .scalar(0x0D)
            case "b" where inClass: return .scalar(0x08)
            case "0":
                // `\0` followed by a digit is a legacy octal escape.
                if let next = peek, ("0"..."9").contains(next) { return nil }
                return .scalar(0)
            case "/", "-":
                return .scalar(scalar.value)
            default:
                return Self.syntaxCharacters.contains(scalar) ? .scalar(scalar.value) : nil
            }
        }

        /// After `[`.
        private mutating func parseClass() -> Node? {
            let negated = take("^")
            var set = ScalarSet.empty
            while !take("]") {
                guard let low = parseClassAtom() else { return nil }
                if peek == "-", index + 1 < scalars.count, scalars[index + 1] != "]" {
                    index += 1
                    guard let high = parseClassAtom(),
                          let lowValue = low.single, let highValue = high.single, lowValue <= highValue
                    else { return nil }
                    set = set.union(ScalarSet(ranges: [lowValue...highValue]))
                } else {
                    set = set.union(low)
                }
            }
            return .set(negated ? set.inverted : set)
        }

        private mutating func parseClassAtom() -> ScalarSet? {
            guard let scalar = peek else { return nil }
            index += 1
            if scalar == "\\" { return parseEscape(inClass: true) }
            return .scalar(scalar.value)
        }
    }
}

private extension ECMARegex.ScalarSet {
    /// The one scalar of a set made from a single character, for a range's ends.
    var single: UInt32? {
        guard ranges.count == 1, ranges[0].lowerBound == ranges[0].upperBound else { return nil }
        return ranges[0].lowerBound
    }
}
