/// A JSON Schema (draft 2020-12) ready to validate instances.
///
/// Validation returns every failed check with a dotted attribute path under the name you give:
///
/// ```swift
/// let schema = try Schema(["type": "object", "required": ["username"]])
/// schema.validate(["full_name": "Root"], path: "user_create")
/// // [ValidationIssue(attribute: "user_create.username", message: "Field required", errno: 22)]
/// ```
///
/// `format` is an annotation only; `$ref` resolves within the schema, to the meta-schemas, and to documents
/// passed as `resources`; there is no network access.
public struct Schema: Sendable {
    public let json: JSON
    let registry: SchemaRegistry
    let base: String

    static let defaultBase = "urn:switchboard:schema"

    /// - Parameters:
    ///   - json: the schema, an object or a boolean.
    ///   - resources: further schema documents that `$ref` may name by their `$id`.
    /// - Throws: `SchemaError` when `json` is neither an object nor a boolean.
    public init(_ json: JSON, resources: [JSON] = []) throws {
        switch json {
        case .object, .bool: break
        default: throw SchemaError(reason: "A schema must be an object or a boolean, not \(json.typeName)")
        }
        self.json = json
        var registry = SchemaRegistry()
        for resource in resources { registry.add(resource, base: URIReference(Self.defaultBase)) }
        var base = URIReference(Self.defaultBase)
        if case .string(let id) = json["$id"] {
            base = base.resolve(id)
            base.fragment = nil
        }
        registry.add(json, base: URIReference(Self.defaultBase))
        registry.resources[base.withoutFragment] = json
        self.registry = registry
        self.base = Self.defaultBase
    }

    /// Every failed check, with attribute paths below `path`; empty when the instance is valid.
    public func validate(_ instance: JSON, path: String = "") -> [ValidationIssue] {
        let evaluator = SchemaEvaluator(registry: registry)
        let result = evaluator.evaluate(json, instance, base: base, path: path, collect: true)
        if !result.valid && evaluator.issues.isEmpty {
            return [ValidationIssue(attribute: path, message: "Input is not valid")]
        }
        return evaluator.issues
    }

    /// Whether the instance is valid; stops at the first failure.
    public func isValid(_ instance: JSON) -> Bool {
        SchemaEvaluator(registry: registry).evaluate(json, instance, base: base, path: "", collect: false).valid
    }
}
