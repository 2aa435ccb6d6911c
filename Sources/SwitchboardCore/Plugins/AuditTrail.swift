/// Reading the audit trail: given to plugins that declare `PluginNeeds.auditTrail`.
public struct AuditTrail: Sendable {
    let log: AuditLog
    let datastore: any Datastore

    /// The audit table's definition (its stored columns).
    public static var table: TableDefinition { AuditLog.table }

    /// False when `audit.enabled` is off: nothing is recorded.
    public var isEnabled: Bool { log.isEnabled }

    /// Waits until every record queued so far is stored.
    public func flush() async { await log.flush() }

    /// Stored records, with the query language on stored columns.
    public func query(filters: [QueryFilter], options: QueryOptions) async throws -> JSON {
        try await datastore.query(AuditLog.table, filters: filters, options: options)
    }
}
