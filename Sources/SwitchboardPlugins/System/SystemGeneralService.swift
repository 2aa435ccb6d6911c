import SwitchboardCore

/// `system.general`: general settings, a config service kept in the datastore.
enum SystemGeneralService {
    static func register(in context: PluginContext) async throws {
        var general = ConfigService(
            namespace: "system.general", description: "General system settings.",
            table: TableDefinition("system_general", columns: [
                .init("timezone", .text), .init("language", .text), .init("kbdmap", .text), .init("motd", .text),
                .init("usage_collection", .boolean),
            ]),
            entry: ["type": "object", "properties": [
                "timezone": ["type": "string"], "language": ["type": "string"], "kbdmap": ["type": "string"],
                "motd": ["type": "string"], "usage_collection": ["type": ["boolean", "null"]],
            ]],
            update: ["type": "object", "properties": [
                "timezone": ["type": "string", "minLength": 1, "maxLength": 64],
                "language": ["type": "string", "pattern": "^[a-z]{2,3}(_[A-Za-z]{2,4})?$"],
                "kbdmap": ["type": "string", "minLength": 1, "maxLength": 64],
                "motd": ["type": "string", "maxLength": 4096],
                "usage_collection": ["type": ["boolean", "null"]],
            ], "additionalProperties": false],
            defaults: ["timezone": "UTC", "language": "en", "kbdmap": "us", "motd": "", "usage_collection": nil])
        general.validate = { _, _, new in
            if let zone = new["timezone"]?.stringValue, !SystemPlugin.isKnownTimezone(zone) {
                throw CallError.validation("system_general_update.timezone", "Unknown time zone '\(zone)'")
            }
            return new
        }
        try await general.register(in: context)
    }
}
