/// Named schema definitions (`register_schema_definition`): a method's schemas refer to one as
/// `{"$ref": "#/components/schemas/<name>"}`, the very pointer that resolves in the OpenAPI document, where
/// they are published under `components.schemas`.
///
/// A method is linked to the definitions it names when it is registered (a name that does not exist is
/// refused then, not at the first call), and a definition cannot be removed while a method or another
/// definition still names it. Kept inside `MethodRegistry`'s table so that both checks see one state.
struct SchemaDefinitions: Sendable {
    static let refPrefix = "#/components/schemas/"

    struct Entry: Sendable {
        var schema: JSON
        var plugin: String
        var references: Set<String>
    }

    var entries: [String: Entry] = [:]

    /// Names are plain identifiers, so that a `$ref` needs no JSON Pointer escaping and reads the same in
    /// OpenAPI tools.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 128
            && name.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D }
    }

    /// The definition names a schema refers to with `#/components/schemas/<name>`, anywhere inside it.
    static func references(in schema: JSON) -> Set<String> {
        var names = Set<String>()
        func walk(_ value: JSON) {
            switch value {
            case .object(let object):
                if case .string(let ref) = object["$ref"], ref.hasPrefix(refPrefix) {
                    names.insert(String(ref.dropFirst(refPrefix.count)))
                }
                for (_, child) in object { walk(child) }
            case .array(let array):
                for child in array { walk(child) }
            default:
                break
            }
        }
        walk(schema)
        return names
    }

    /// The named definitions and every definition they name in turn.
    /// - Throws: `CallError` EINVAL naming the first that does not exist.
    func closure(_ names: Set<String>, for owner: String) throws(CallError) -> [String: JSON] {
        var found: [String: JSON] = [:]
        var pending = Array(names)
        while let name = pending.popLast() {
            if found[name] != nil { continue }
            guard let entry = entries[name] else {
                throw CallError(Errno.EINVAL, "\(owner) refers to the schema definition '\(name)', which is not registered",
                                extra: ["definition": .string(name)])
            }
            found[name] = entry.schema
            pending += entry.references
        }
        return found
    }

    /// `schema` with the definitions it reaches placed at `components.schemas`, where its `$ref`s point.
    static func linked(_ schema: JSON, _ definitions: [String: JSON]) -> JSON {
        guard !definitions.isEmpty, case .object(var object) = schema else { return schema }
        object["components"] = ["schemas": .object(JSONObject(uniqueKeysWithValues: definitions.map { ($0.key, $0.value) }))]
        return .object(object)
    }
}
