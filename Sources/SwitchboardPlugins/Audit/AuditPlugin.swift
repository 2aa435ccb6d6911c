import SwitchboardCore

/// `audit.query`: the audit trail of logins, logouts, tokens and calls that may change something, with the
/// query language. Rows: id, event, timestamp (`{"$date": ms}`), time_ms, session, username, address,
/// dialect, method, arguments (secrets masked), success, errno, error.
public struct AuditPlugin: Plugin {
    public let name = "audit"
    public let dependencies = ["core"]
    public let needs: PluginNeeds = .auditTrail

    public init() {}

    public func setUp(_ context: PluginContext) async throws {
        let trail = try context.auditTrail()
        context.register(ServiceDescriptor(name: "audit", description: "The audit trail."))
        let stored = Set(["id"] + AuditTrail.table.columns.map(\.name))
        try context.register(MethodDescriptor(
            "audit.query",
            description: "Audit records with the query language, e.g. [[\"event\", \"=\", \"AUTHENTICATION\"], [\"success\", \"=\", false]] "
                + "and {\"order_by\": [\"-id\"], \"limit\": 50}. Filter on time_ms (milliseconds) for time ranges.",
            params: QueryArguments.parameters, returns: true, roles: [Role.readonlyAdmin, "AUDIT_READ"], flags: .readonly
        ) { _, args in
            guard trail.isEnabled else { throw CallError(Errno.ENOTSUP, "The audit trail is turned off (audit.enabled)") }
            let (filters, options) = try QueryArguments.parse(args)
            // Records queued a moment ago are part of the answer: a client that just called something sees it.
            await trail.flush()
            let onStoredColumns = filters.allSatisfy { filter in
                guard case .condition(let condition) = filter, let name = condition.field.simpleName else { return false }
                return stored.contains(name)
            }
            let selectsStored = options.select.allSatisfy { $0.field.simpleName.map(stored.contains) ?? false }
            if onStoredColumns && selectsStored && options.orderBy.allSatisfy({ $0.field.simpleName.map(stored.contains) ?? false }) {
                // The datastore answers the whole query (with SQL paging when it can); only `timestamp` is added.
                return Self.withTimestamps(try await trail.query(filters: filters, options: options))
            }
            let rows = try await trail.query(filters: [], options: QueryOptions())
            return try QueryEngine.run(rows.arrayValue.map { $0.map(Self.withTimestamps) } ?? [], filters: filters, options: options)
        })
    }

    /// Adds `timestamp` as `{"$date": ms}` to a row, a list of rows or a count (left as it is).
    static func withTimestamps(_ result: JSON) -> JSON {
        switch result {
        case .array(let rows): return .array(rows.map(withTimestamps))
        case .object(var row):
            if let millis = row["time_ms"]?.intValue { row["timestamp"] = ["$date": .int(millis)] }
            return .object(row)
        default: return result
        }
    }
}
