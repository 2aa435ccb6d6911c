/// What one schema said about one instance: whether it holds, and which properties and items it evaluated
/// (the annotations `unevaluatedProperties` and `unevaluatedItems` read).
struct Evaluation {
    var valid = true
    var properties: Set<String> = []
    var items: Set<Int> = []

    mutating func merge(_ other: Evaluation) {
        properties.formUnion(other.properties)
        items.formUnion(other.items)
    }
}

/// Evaluates draft 2020-12 keywords by walking the schema JSON; one evaluator serves one validation.
final class SchemaEvaluator {
    let registry: SchemaRegistry
    var issues: [ValidationIssue] = []
    /// Resource URIs entered, outermost first: the dynamic scope `$dynamicRef` searches.
    var dynamicScope: [String] = []
    var depth = 0
    static let maxDepth = 256
    /// `$ref` targets and `$dynamicRef` initial targets by base and reference: a schema walked over a nested
    /// instance (the meta-schema over a plugin's schema above all) resolves the same few references at every
    /// level, and parsing and resolving the URIs each time was most of its cost. One evaluation's cache.
    private var resolved: [String: (target: URIReference, schema: (JSON, String)?)] = [:]

    init(registry: SchemaRegistry) {
        self.registry = registry
    }

    static func child(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }
    static func child(_ path: String, _ index: Int) -> String { path.isEmpty ? String(index) : path + "." + String(index) }

    func report(_ collect: Bool, _ path: String, _ message: String) {
        if collect { issues.append(ValidationIssue(attribute: path, message: message)) }
    }

    /// - Parameter baseIsOwn: `base` already includes the schema's own `$id` (it was reached by a reference).
    func evaluate(_ schema: JSON, _ instance: JSON, base: String, path: String, collect: Bool, baseIsOwn: Bool = false) -> Evaluation {
        switch schema {
        case .bool(let allowed):
            if !allowed { report(collect, path, "No value is allowed here") }
            return Evaluation(valid: allowed)
        case .object(let object):
            depth += 1
            defer { depth -= 1 }
            guard depth < Self.maxDepth else {
                report(collect, path, "Schema recursion is too deep")
                return Evaluation(valid: false)
            }
            var base = base
            if !baseIsOwn, case .string(let id) = object["$id"] {
                var uri = URIReference(base).resolve(id)
                uri.fragment = nil
                base = uri.text
            }
            let entered = dynamicScope.last != base
            if entered { dynamicScope.append(base) }
            defer { if entered { dynamicScope.removeLast() } }
            return evaluateObject(object, instance, base: base, path: path, collect: collect)
        default:
            // Not a schema; treated as the empty schema.
            return Evaluation()
        }
    }

    private func evaluateObject(_ schema: JSONObject, _ instance: JSON, base: String, path: String, collect: Bool) -> Evaluation {
        var result = Evaluation()
        func fail() { result.valid = false }
        // Without collecting messages, the first failure decides: annotations of a failed schema are dropped anyway.
        func done() -> Bool { !result.valid && !collect }

        for keyword in ["$ref", "$dynamicRef"] {
            guard case .string(let reference) = schema[keyword] else { continue }
            let resolved = keyword == "$ref" ? lookUp(reference, base: base).schema : resolveDynamic(reference, base: base)
            if let (targetSchema, targetBase) = resolved {
                let sub = evaluate(targetSchema, instance, base: targetBase, path: path, collect: collect, baseIsOwn: true)
                if sub.valid { result.merge(sub) } else { fail() }
            } else {
                report(collect, path, "Cannot resolve schema reference \(reference)")
                fail()
            }
            if done() { return result }
        }

        validateAssertions(schema, instance, path: path, collect: collect, result: &result)
        if done() { return result }

        // In-place applicators.
        if case .array(let all) = schema["allOf"] {
            for sub in all {
                let r = evaluate(sub, instance, base: base, path: path, collect: collect)
                if r.valid { result.merge(r) } else { fail(); if done() { return result } }
            }
        }
        if case .array(let any) = schema["anyOf"] {
            var matched = false
            for sub in any {
                let r = evaluate(sub, instance, base: base, path: path, collect: false)
                if r.valid { matched = true; result.merge(r) }
            }
            if !matched {
                report(collect, path, "Input does not match any of the allowed schemas")
                fail()
                if done() { return result }
            }
        }
        if case .array(let one) = schema["oneOf"] {
            var matches = 0
            var matchedEvaluation = Evaluation()
            for sub in one {
                let r = evaluate(sub, instance, base: base, path: path, collect: false)
                if r.valid { matches += 1; matchedEvaluation = r }
                if matches > 1 { break }
            }
            if matches == 1 {
                result.merge(matchedEvaluation)
            } else {
                report(collect, path, matches == 0 ? "Input does not match any of the allowed schemas"
                    : "Input matches more than one of the allowed schemas")
                fail()
                if done() { return result }
            }
        }
        if let not = schema["not"] {
            if evaluate(not, instance, base: base, path: path, collect: false).valid {
                report(collect, path, "Input matches a schema it must not match")
                fail()
                if done() { return result }
            }
        }
        if let condition = schema["if"] {
            let r = evaluate(condition, instance, base: base, path: path, collect: false)
            if r.valid {
                result.merge(r)
                if let then = schema["then"] {
                    let t = evaluate(then, instance, base: base, path: path, collect: collect)
                    if t.valid { result.merge(t) } else { fail() }
                }
            } else if let otherwise = schema["else"] {
                let e = evaluate(otherwise, instance, base: base, path: path, collect: collect)
                if e.valid { result.merge(e) } else { fail() }
            }
            if done() { return result }
        }

        if case .object(let object) = instance {
            evaluateObjectKeywords(schema, object, base: base, path: path, collect: collect, result: &result)
            if done() { return result }
        }
        if case .array(let array) = instance {
            evaluateArrayKeywords(schema, array, base: base, path: path, collect: collect, result: &result)
        }
        return result
    }

    private func lookUp(_ reference: String, base: String) -> (target: URIReference, schema: (JSON, String)?) {
        let key = base + "\u{0}" + reference
        if let known = resolved[key] { return known }
        let target = URIReference(base).resolve(reference)
        let found = (target, registry.resolve(target))
        resolved[key] = found
        return found
    }

    private func resolveDynamic(_ reference: String, base: String) -> (JSON, String)? {
        let (target, found) = lookUp(reference, base: base)
        guard let initial = found else { return nil }
        guard let name = target.fragment, !name.isEmpty, !name.hasPrefix("/"),
              registry.dynamicAnchor(target.withoutFragment + "#" + name) != nil
        else { return initial }
        // The outermost resource in the dynamic scope that declares the same dynamic anchor wins.
        for scope in dynamicScope {
            if let schema = registry.dynamicAnchor(scope + "#" + name) { return (schema, scope) }
        }
        return initial
    }

    private func evaluateObjectKeywords(
        _ schema: JSONObject, _ object: JSONObject, base: String, path: String, collect: Bool, result: inout Evaluation
    ) {
        func failed() -> Bool { !result.valid && !collect }
        var localEvaluated: Set<String> = []
        if case .object(let properties) = schema["properties"] {
            for (name, subschema) in properties {
                guard let value = object[name] else { continue }
                localEvaluated.insert(name)
                if !evaluate(subschema, value, base: base, path: Self.child(path, name), collect: collect).valid {
                    result.valid = false
                    if failed() { return }
                }
            }
        }
        if case .object(let patterns) = schema["patternProperties"] {
            for (pattern, subschema) in patterns {
                for (name, value) in object {
                    guard let matches = PatternCache.shared.matches(pattern, name) else {
                        report(collect, path, "Invalid regular expression in schema: \(pattern)")
                        result.valid = false
                        return
                    }
                    guard matches else { continue }
                    localEvaluated.insert(name)
                    if !evaluate(subschema, value, base: base, path: Self.child(path, name), collect: collect).valid {
                        result.valid = false
                        if failed() { return }
                    }
                }
            }
        }
        if let additional = schema["additionalProperties"] {
            let remaining = object.filter { !localEvaluated.contains($0.key) }
            localEvaluated.formUnion(remaining.keys)
            if !applyToProperties(additional, remaining, base: base, path: path, collect: collect) {
                result.valid = false
                if failed() { return }
            }
        }
        if case .object(let dependent) = schema["dependentSchemas"] {
            for (name, subschema) in dependent where object[name] != nil {
                let r = evaluate(subschema, .object(object), base: base, path: path, collect: collect)
                if r.valid { result.merge(r) } else { result.valid = false; if failed() { return } }
            }
        }
        if let names = schema["propertyNames"] {
            for name in object.keys {
                if !evaluate(names, .string(name), base: base, path: Self.child(path, name), collect: false).valid {
                    report(collect, Self.child(path, name), "Property name is not allowed")
                    result.valid = false
                    if failed() { return }
                }
            }
        }
        result.properties.formUnion(localEvaluated)
        if let unevaluated = schema["unevaluatedProperties"] {
            let remaining = object.filter { !result.properties.contains($0.key) }
            if !applyToProperties(unevaluated, remaining, base: base, path: path, collect: collect) {
                result.valid = false
                if failed() { return }
            }
            result.properties.formUnion(object.keys)
        }
    }

    /// `additionalProperties` and `unevaluatedProperties`: one subschema for each property the others left.
    private func applyToProperties(_ subschema: JSON, _ properties: JSONObject, base: String, path: String, collect: Bool) -> Bool {
        var valid = true
        for (name, value) in properties {
            let childPath = Self.child(path, name)
            if case .bool(false) = subschema {
                report(collect, childPath, "Extra inputs are not permitted")
                valid = false
            } else if !evaluate(subschema, value, base: base, path: childPath, collect: collect).valid {
                valid = false
            }
            if !valid && !collect { return false }
        }
        return valid
    }

    private func evaluateArrayKeywords(
        _ schema: JSONObject, _ array: [JSON], base: String, path: String, collect: Bool, result: inout Evaluation
    ) {
        func failed() -> Bool { !result.valid && !collect }
        var prefixCount = 0
        if case .array(let prefix) = schema["prefixItems"] {
            prefixCount = prefix.count
            for (index, subschema) in prefix.enumerated() where index < array.count {
                result.items.insert(index)
                if !evaluate(subschema, array[index], base: base, path: Self.child(path, index), collect: collect).valid {
                    result.valid = false
                    if failed() { return }
                }
            }
        }
        if let items = schema["items"] {
            for index in prefixCount..<max(prefixCount, array.count) {
                result.items.insert(index)
                if case .bool(false) = items {
                    report(collect, Self.child(path, index), "No more items are allowed here")
                    result.valid = false
                } else if !evaluate(items, array[index], base: base, path: Self.child(path, index), collect: collect).valid {
                    result.valid = false
                }
                if failed() { return }
            }
        }
        if let contains = schema["contains"] {
            var matched = 0
            for (index, element) in array.enumerated()
            where evaluate(contains, element, base: base, path: Self.child(path, index), collect: false).valid {
                matched += 1
                result.items.insert(index)
            }
            let minimum = schema["minContains"]?.intValue ?? 1
            if Int64(matched) < minimum {
                report(collect, path, minimum <= 1 ? "List should contain at least one matching item"
                    : "List should contain at least \(minimum) matching items")
                result.valid = false
                if failed() { return }
            }
            if let maximum = schema["maxContains"]?.intValue, Int64(matched) > maximum {
                report(collect, path, "List should contain at most \(maximum) matching items")
                result.valid = false
                if failed() { return }
            }
        }
        if let unevaluated = schema["unevaluatedItems"] {
            for index in array.indices where !result.items.contains(index) {
                if case .bool(false) = unevaluated {
                    report(collect, Self.child(path, index), "No more items are allowed here")
                    result.valid = false
                } else if !evaluate(unevaluated, array[index], base: base, path: Self.child(path, index), collect: collect).valid {
                    result.valid = false
                }
                if failed() { return }
            }
            result.items.formUnion(array.indices)
        }
    }
}
