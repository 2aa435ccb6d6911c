/// The schema resources and anchors reachable by URI from one schema, with the draft 2020-12 meta-schemas.
///
/// Built once when a `Schema` is made; evaluation only reads it.
struct SchemaRegistry: Sendable {
    /// Resource roots by absolute URI without fragment.
    var resources: [String: JSON] = [:]
    /// `$anchor` and `$dynamicAnchor` targets by `uri#name`.
    var anchors: [String: JSON] = [:]
    /// `$dynamicAnchor` targets only, by `uri#name`.
    var dynamicAnchors: [String: JSON] = [:]

    /// The meta-schemas, parsed once per process.
    static let standard: SchemaRegistry = {
        var registry = SchemaRegistry()
        for text in Metaschemas.documents {
            // The embedded documents are generated from the specification and parse by construction.
            if let document = try? JSON.parse(text) {
                registry.add(document, base: URIReference(""))
            }
        }
        return registry
    }()

    /// Keywords whose value is one schema.
    static let schemaKeywords: Set<String> = [
        "items", "contains", "additionalProperties", "not", "if", "then", "else", "unevaluatedItems",
        "unevaluatedProperties", "propertyNames", "contentSchema",
    ]
    /// Keywords whose value is an array of schemas.
    static let schemaArrayKeywords: Set<String> = ["allOf", "anyOf", "oneOf", "prefixItems"]
    /// Keywords whose value is an object of schemas.
    static let schemaMapKeywords: Set<String> = ["$defs", "definitions", "properties", "patternProperties", "dependentSchemas"]

    /// Registers a document and every resource and anchor inside it.
    mutating func add(_ document: JSON, base: URIReference) {
        resources[base.withoutFragment] = document
        walk(document, base: base)
    }

    private mutating func walk(_ schema: JSON, base: URIReference) {
        guard case .object(let object) = schema else { return }
        var base = base
        if case .string(let id) = object["$id"] {
            base = base.resolve(id)
            base.fragment = nil
            resources[base.withoutFragment] = schema
        }
        let key = base.withoutFragment
        if case .string(let anchor) = object["$anchor"] {
            anchors[key + "#" + anchor] = schema
        }
        if case .string(let anchor) = object["$dynamicAnchor"] {
            anchors[key + "#" + anchor] = schema
            dynamicAnchors[key + "#" + anchor] = schema
        }
        for (keyword, value) in object {
            if Self.schemaKeywords.contains(keyword) {
                walk(value, base: base)
            } else if Self.schemaArrayKeywords.contains(keyword), case .array(let array) = value {
                for element in array { walk(element, base: base) }
            } else if Self.schemaMapKeywords.contains(keyword), case .object(let map) = value {
                for (_, element) in map { walk(element, base: base) }
            }
        }
    }

    /// Finds the schema a resolved URI names, and the base URI in force there.
    func resolve(_ uri: URIReference) -> (schema: JSON, base: String)? {
        let resourceKey = uri.withoutFragment
        let fragment = percentDecoded(uri.fragment ?? "")
        if !fragment.isEmpty, !fragment.hasPrefix("/") {
            guard let schema = anchors[resourceKey + "#" + fragment] ?? Self.standard.anchors[resourceKey + "#" + fragment]
            else { return nil }
            return (schema, resourceKey)
        }
        guard let root = resources[resourceKey] ?? Self.standard.resources[resourceKey] else { return nil }
        guard let tokens = JSONPointer.tokens(fragment) else { return nil }
        var current = root
        var base = URIReference(resourceKey)
        for token in tokens {
            switch current {
            case .object(let object):
                guard let next = object[token] else { return nil }
                current = next
            case .array(let array):
                guard let index = Int(token), index >= 0, index < array.count else { return nil }
                current = array[index]
            default:
                return nil
            }
            // Passing through an embedded resource changes the base for what lies below it.
            if case .string(let id) = current["$id"] {
                base = base.resolve(id)
                base.fragment = nil
            }
        }
        return (current, base.withoutFragment)
    }

    func dynamicAnchor(_ key: String) -> JSON? {
        dynamicAnchors[key] ?? SchemaRegistry.standard.dynamicAnchors[key]
    }
}
