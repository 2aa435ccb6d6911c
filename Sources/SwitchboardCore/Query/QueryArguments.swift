/// The `(filters, options)` parameters every query method takes (CRUD `query`, `core.get_jobs`,
/// `auth.sessions`), declared and parsed the same way everywhere; the REST mapping recognises them by name.
public enum QueryArguments {
    public static var parameters: [Parameter] {
        [Parameter("filters", schema: ["type": "array"], default: []), Parameter("options", schema: ["type": "object"], default: [:])]
    }

    /// The validated arguments of a query method, parsed.
    /// - Throws: `CallError` naming the attribute of a malformed filter or option.
    public static func parse(_ args: [JSON]) throws -> (filters: [QueryFilter], options: QueryOptions) {
        (try QueryFilter.parseList(args.first ?? [], attribute: "filters"),
         try QueryOptions.parse(args.count > 1 ? args[1] : [:], attribute: "options"))
    }
}
