import SwitchboardCore

/// Splits a command line into arguments the way a POSIX shell tokenises words — single and double quotes,
/// backslash escapes — and does nothing else: no variables, globbing, pipes or command substitution.
/// A command therefore runs as exactly the program and arguments written, never through a shell.
enum CommandLineSplitter {
    static func split(_ line: String) throws(CallError) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var iterator = line.makeIterator()
        while let character = iterator.next() {
            switch character {
            case " ", "\t", "\n":
                if inWord {
                    words.append(current)
                    current = ""
                    inWord = false
                }
            case "'":
                inWord = true
                var closed = false
                while let next = iterator.next() {
                    if next == "'" { closed = true; break }
                    current.append(next)
                }
                if !closed { throw CallError(Errno.EINVAL, "Unterminated single quote in command: \(line)") }
            case "\"":
                inWord = true
                var closed = false
                while let next = iterator.next() {
                    if next == "\"" { closed = true; break }
                    if next == "\\" {
                        guard let escaped = iterator.next() else { break }
                        if !["\"", "\\", "$", "`", "\n"].contains(escaped) { current.append("\\") }
                        current.append(escaped)
                        continue
                    }
                    current.append(next)
                }
                if !closed { throw CallError(Errno.EINVAL, "Unterminated double quote in command: \(line)") }
            case "\\":
                inWord = true
                if let escaped = iterator.next() { current.append(escaped) }
            default:
                inWord = true
                current.append(character)
            }
        }
        if inWord { words.append(current) }
        if words.isEmpty { throw CallError(Errno.EINVAL, "Empty command") }
        return words
    }
}
