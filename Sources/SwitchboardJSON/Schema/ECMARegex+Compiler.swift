extension ECMARegex {
    /// Thompson's construction: a pattern's tree as a program of character tests, splits and jumps.
    struct Compiler {
        var program: [Instruction] = []

        static let tooLarge = Refusal("the pattern is too large: it compiles to more than \(ECMARegex.maxInstructions) instructions (counted repetitions multiply their operand)")

        mutating func emit(_ node: Node) throws(Refusal) {
            guard program.count <= ECMARegex.maxInstructions else { throw Self.tooLarge }
            switch node {
            case .set(let characters): program.append(.character(characters))
            case .start: program.append(.assertStart)
            case .end: program.append(.assertEnd)
            case .wordBoundary(let wanted): program.append(.assertWordBoundary(wanted))
            case .sequence(let nodes):
                for node in nodes { try emit(node) }
            case .alternation(let alternatives):
                var jumps: [Int] = []
                for (index, alternative) in alternatives.enumerated() {
                    if index == alternatives.count - 1 {
                        try emit(alternative)
                    } else {
                        let split = program.count
                        program.append(.split(split + 1, -1))
                        try emit(alternative)
                        jumps.append(program.count)
                        program.append(.jump(-1))
                        program[split] = .split(split + 1, program.count)
                    }
                }
                for jump in jumps { program[jump] = .jump(program.count) }
            case .repetition(let operand, let minimum, let maximum):
                for _ in 0..<minimum { try emit(operand) }
                if let maximum {
                    // Each optional copy may be skipped, which ends the repetition.
                    var splits: [Int] = []
                    for _ in minimum..<maximum {
                        splits.append(program.count)
                        program.append(.split(program.count + 1, -1))
                        try emit(operand)
                    }
                    for split in splits { program[split] = .split(split + 1, program.count) }
                } else {
                    let loop = program.count
                    program.append(.split(loop + 1, -1))
                    try emit(operand)
                    program.append(.jump(loop))
                    program[loop] = .split(loop + 1, program.count)
                }
            }
        }
    }
}
