import Foundation
import SwitchboardCore

/// `system.info` (read from /proc) and `system.general`, a config service kept in the datastore.
public struct SystemPlugin: Plugin {
    public let name = "system"
    public let dependencies = ["core"]

    public init() {}

    public func setUp(_ context: PluginContext) async throws {
        let daemon = context.daemon
        context.register(ServiceDescriptor(name: "system", description: "The machine the daemon runs on."))
        try context.register(SystemStats.source)
        try context.register(MethodDescriptor(
            "system.info",
            description: "Host name, versions, uptime, boot time, load averages, CPU count and model, memory.",
            returns: ["type": "object", "properties": [
                "version": ["type": "string"], "hostname": ["type": "string"], "uptime_seconds": ["type": "number"],
                "uptime": ["type": "string"], "boottime": ["type": ["object", "null"]], "loadavg": ["type": "array"],
                "cores": ["type": "integer"], "physical_cores": ["type": "integer"], "model": ["type": ["string", "null"]],
                "physmem": ["type": ["integer", "null"]], "available_memory": ["type": ["integer", "null"]],
                "kernel": ["type": ["string", "null"]], "datetime": ["type": "object"], "daemon_uptime_seconds": ["type": "number"],
            ]],
            roles: [Role.readonlyAdmin], flags: .readonly
        ) { _, _ in
            let uptime = ProcFS.uptime ?? 0
            let memory = ProcFS.memory
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let daemonUptime = daemon.startedAt.duration(to: ContinuousClock.now)
            return [
                "version": .string("Switchboard-\(daemon.version)"),
                "hostname": .string(Runtime.hostname),
                "uptime_seconds": .double(uptime),
                "uptime": .string(Self.formatUptime(uptime)),
                "boottime": ProcFS.bootTime.map { ["$date": .int($0 * 1000)] } ?? .null,
                "loadavg": .array(ProcFS.loadAverages.map { .double($0) }),
                "cores": JSON(ProcessInfo.processInfo.activeProcessorCount),
                "physical_cores": JSON(ProcessInfo.processInfo.processorCount),
                "model": JSON(ProcFS.cpuModel),
                "physmem": memory["MemTotal"].map { .int($0) } ?? .null,
                "available_memory": memory["MemAvailable"].map { .int($0) } ?? .null,
                "kernel": JSON(ProcFS.kernelRelease),
                "datetime": ["$date": .int(now)],
                "daemon_uptime_seconds": .double(Double(daemonUptime.components.seconds) + Double(daemonUptime.components.attoseconds) / 1e18),
            ]
        })

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
            if let zone = new["timezone"]?.stringValue, !Self.isKnownTimezone(zone) {
                throw CallError.validation("system_general_update.timezone", "Unknown time zone '\(zone)'")
            }
            return new
        }
        try await general.register(in: context)
    }

    static func isKnownTimezone(_ zone: String) -> Bool {
        if zone == "UTC" { return true }
        guard !zone.contains(".."), !zone.hasPrefix("/") else { return false }
        if FileManager.default.fileExists(atPath: "/usr/share/zoneinfo") {
            return FileManager.default.fileExists(atPath: "/usr/share/zoneinfo/" + zone)
        }
        return TimeZone(identifier: zone) != nil
    }

    /// "3 days, 4:05:06", as middlewared writes it.
    static func formatUptime(_ seconds: Double) -> String {
        let total = Int(seconds)
        let days = total / 86_400
        let hours = (total % 86_400) / 3_600
        let minutes = (total % 3_600) / 60
        let secs = total % 60
        let clock = String(format: "%d:%02d:%02d", hours, minutes, secs)
        if days == 0 { return clock }
        return "\(days) day\(days == 1 ? "" : "s"), \(clock)"
    }
}
