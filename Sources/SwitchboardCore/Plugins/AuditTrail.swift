/// Reading the audit trail, and adding to it what is not a call: given to plugins that declare
/// `PluginNeeds.auditTrail`.
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

extension AuditTrail {
    /// Records something a plugin did or saw that is not a client's call (an external plugin's process
    /// restarting, say): `event` names its kind (`PLUGIN`), `subject` what it was about (`plugin.crash`).
    public func record(event: String, subject: String, details: JSON, success: Bool, errno: Int32? = nil, error: String? = nil) {
        log.record(AuditRecord(event: event, timeMillis: Session.wallClockMillis, session: "", username: nil, address: "",
                               dialect: "", method: subject, arguments: details, success: success, errno: errno, error: error))
    }
}
