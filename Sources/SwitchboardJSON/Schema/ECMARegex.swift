/// ECMA-262 regular expressions, the dialect of JSON Schema's `pattern` and of query `~` filters, matched in
/// time linear in the input whatever the pattern, and without ICU.
///
/// Supported: literals, `.`, classes (`[a-z_]`, `[^...]`, with escapes inside), `\d \D \w \W \s \S`,
/// `\b \B`, `\p{...} \P{...}` (General_Category values and common binary properties), the escapes
/// `\t \n \v \f \r \0 \cX \xHH \uHHHH \u{H...}` and escaped syntax characters, groups `(...)`, `(?:...)`,
/// `(?<name>...)`, alternation, the quantifiers `* + ? {n} {n,} {n,m}` (greedy or lazy, which cannot change a
/// yes/no answer), the anchors `^ $`, and ignoring case (the `C~` query operator, or a leading `(?i)` as
/// Python's `re` writes it). Refused with a reason (`Refusal`): backreferences and lookaround, which no
/// engine matches in linear time, other inline flags, scripts in `\p{...}`, and anything malformed.
///
/// ECMA-262's meanings, not ICU's: `\d` and `\w` are ASCII, `$` is the end of the string only (ICU also
/// matches before a final newline, so `^[a-z]+$` accepted "admin\n"), `.` is any character but a line
/// terminator. Characters are Unicode scalars, as with ECMA-262's `u` flag.
///
/// Matching simulates the pattern's NFA (Thompson's construction) over the input, all alternatives in step:
/// at most `program.count` steps per input character, so no pattern can be driven into exponential
/// backtracking (`^(a+)+$` against a long run of `a`s). A `StepBudget` (Core's `MatchBudget`) bounds the steps one query may
/// spend in total, since a linear cost is still a cost when a client chooses both pattern and rows.
public struct ECMARegex: Sendable {
    /// Why a pattern is not accepted, for the caller's error.
    public struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        public let reason: String
        init(_ reason: String) { self.reason = reason }
        public var description: String { reason }
    }

    indirect enum Node {
        case set(CharacterClass)
        case start
        case end
        /// `\b` (true) and `\B` (false).
        case wordBoundary(Bool)
        case sequence([Node])
        case alternation([Node])
        /// `maximum` nil: unbounded.
        case repetition(Node, minimum: Int, maximum: Int?)
    }

    enum Instruction: Sendable {
        case character(CharacterClass)
        /// Continue at both targets.
        case split(Int, Int)
        case jump(Int)
        case assertStart
        case assertEnd
        case assertWordBoundary(Bool)
        case match
    }

    /// Bounds that keep a compiled pattern small: counted repetition is compiled by copying its operand.
    static let maxCount = 1_000
    static let maxInstructions = 20_000

    let program: [Instruction]
    /// Case is ignored: `C~`, or a pattern that starts with `(?i)`.
    public let ignoresCase: Bool

    /// Compiles `pattern`, or says why it cannot.
    public init(compiling pattern: String, ignoringCase: Bool = false) throws(Refusal) {
        var source = pattern
        var ignoreCase = ignoringCase
        if source.hasPrefix("(?i)") {
            source.removeFirst(4)
            ignoreCase = true
        }
        var parser = Parser(Array(source.unicodeScalars))
        let node = try parser.parsePattern()
        var compiler = Compiler()
        try compiler.emit(node)
        compiler.program.append(.match)
        guard compiler.program.count <= Self.maxInstructions else { throw Compiler.tooLarge }
        program = compiler.program
        ignoresCase = ignoreCase
    }

    /// `nil` when the pattern is refused; `init(compiling:)` says why.
    public init?(_ pattern: String, ignoringCase: Bool = false) {
        guard let regex = try? ECMARegex(compiling: pattern, ignoringCase: ignoringCase) else { return nil }
        self = regex
    }

    /// Whether the pattern matches anywhere in `string` (JSON Schema's `pattern` is not anchored).
    public func search(_ string: String) -> Bool {
        (try? search(string, budget: nil)) ?? false
    }

    /// `search(_:)`, charging every step to `budget`, which throws when it runs out or the task is cancelled.
    public func search(_ string: String, budget: (any StepBudget)?) throws -> Bool {
        let input = Array(string.unicodeScalars)
        var simulation = Simulation(program: program, input: input)
        var current: [Int] = []
        var next: [Int] = []
        simulation.add(0, at: 0, to: &current)
        var position = 0
        while !simulation.matched, position < input.count {
            let value = input[position].value
            position += 1
            simulation.generation += 1
            for pc in current {
                if case .character(let characters) = program[pc], characters.matches(value, ignoreCase: ignoresCase) {
                    simulation.add(pc + 1, at: position, to: &next)
                }
            }
            // A match may also begin here.
            simulation.add(0, at: position, to: &next)
            if let budget {
                try budget.spend(current.count + simulation.visited)
                simulation.visited = 0
            }
            swap(&current, &next)
            next.removeAll(keepingCapacity: true)
        }
        return simulation.matched
    }

    /// The threads of one step: every instruction reachable without consuming input is visited once.
    private struct Simulation {
        let program: [Instruction]
        let input: [Unicode.Scalar]
        var marks: [Int]
        var generation = 0
        var matched = false
        var stack: [Int] = []
        /// Instructions visited since the budget was last charged.
        var visited = 0

        init(program: [Instruction], input: [Unicode.Scalar]) {
            self.program = program
            self.input = input
            self.marks = Array(repeating: -1, count: program.count)
        }

        func isWord(at position: Int) -> Bool {
            position >= 0 && position < input.count && ScalarSet.word.contains(input[position].value)
        }

        mutating func add(_ start: Int, at position: Int, to list: inout [Int]) {
            stack.append(start)
            while let pc = stack.popLast() {
                if marks[pc] == generation { continue }
                marks[pc] = generation
                visited += 1
                switch program[pc] {
                case .character: list.append(pc)
                case .split(let first, let second):
                    stack.append(second)
                    stack.append(first)
                case .jump(let target): stack.append(target)
                case .assertStart: if position == 0 { stack.append(pc + 1) }
                case .assertEnd: if position == input.count { stack.append(pc + 1) }
                case .assertWordBoundary(let wanted):
                    if (isWord(at: position - 1) != isWord(at: position)) == wanted { stack.append(pc + 1) }
                case .match: matched = true
                }
            }
        }
    }
}
