import SwitchboardCore

/// Arguments given by name (`{"id": 3, "options": {..}}`) in the dialects that carry objects, not lists.
public enum NamedArguments {
    /// The positional list for `params`, or nil when a key names no parameter (the object is then a value, not a
    /// set of named arguments). A parameter left out before one that was given takes its default; a required
    /// one gets null, which validation then reports under its name.
    public static func positional(_ object: JSONObject, params: ArraySlice<Parameter>) -> [JSON]? {
        guard object.keys.allSatisfy({ key in params.contains { $0.name == key } }) else { return nil }
        let given = params.filter { object[$0.name] != nil }.count
        var list: [JSON] = []
        var seen = 0
        for parameter in params where seen < given {
            if let value = object[parameter.name] { seen += 1; list.append(value) } else { list.append(parameter.defaultValue ?? .null) }
        }
        return list
    }
}
