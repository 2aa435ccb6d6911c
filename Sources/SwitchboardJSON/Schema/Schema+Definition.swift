import Synchronization

/// Checking a schema a plugin declares, once, when it registers: a typo (`"type": "strnig"`, `"minimum": "5"`)
/// or a pattern the engine refuses would otherwise be accepted and then fail every call at run time, or, for
/// keywords the evaluator skips, validate nothing.
extension Schema {
    /// The draft 2020-12 meta-schema, compiled once.
    static let metaschema: Schema? = try? Schema(["$ref": "https://json-schema.org/draft/2020-12/schema"])

    /// What is wrong with `definition` as a schema, attribute paths below `path`; empty when it is a schema
    /// Switchboard can evaluate: valid against the meta-schema, and every `pattern` and `patternProperties` key
    /// a regular expression `ECMARegex` compiles.
    public static func definitionIssues(_ definition: JSON, path: String) -> [ValidationIssue] {
        // Trivial schemas (`true`, a lone type) are most of what methods declare; they need no walk.
        if case .bool = definition { return [] }
        let key = definition.encodedString()
        if checkedDefinitions.withLock({ $0.contains(key) }) { return [] }
        guard let metaschema else { return [ValidationIssue(attribute: path, message: "the meta-schema did not compile")] }
        var issues = metaschema.validate(definition, path: path)
        collectPatternIssues(definition, path: path, into: &issues)
        // Only valid ones are remembered (the issues' paths depend on where a schema is declared); the set is
        // bounded by the distinct schemas plugins declare.
        if issues.isEmpty { checkedDefinitions.withLock { _ = $0.insert(key) } }
        return issues
    }

    /// Schemas already found valid in this process: the same declaration (a CRUD service's filters, a daemon
    /// started again in one process) is walked once.
    private static let checkedDefinitions = Mutex<Set<String>>([])

    private static func collectPatternIssues(_ schema: JSON, path: String, into issues: inout [ValidationIssue]) {
        switch schema {
        case .object(let object):
            for (key, value) in object {
                let below = path + "." + key
                if key == "pattern", case .string(let pattern) = value, case .failure(let refusal) = PatternCache.shared.compiled(pattern) {
                    issues.append(ValidationIssue(attribute: below, message: "\(refusal.reason): \(pattern)"))
                }
                if key == "patternProperties", case .object(let patterns) = value {
                    for pattern in patterns.keys {
                        if case .failure(let refusal) = PatternCache.shared.compiled(pattern) {
                            issues.append(ValidationIssue(attribute: below, message: "\(refusal.reason): \(pattern)"))
                        }
                    }
                }
                // `enum`, `const`, `default` and `examples` hold instances, not schemas.
                if ["enum", "const", "default", "examples"].contains(key) { continue }
                collectPatternIssues(value, path: below, into: &issues)
            }
        case .array(let items):
            for (index, item) in items.enumerated() { collectPatternIssues(item, path: "\(path).\(index)", into: &issues) }
        default:
            break
        }
    }
}
