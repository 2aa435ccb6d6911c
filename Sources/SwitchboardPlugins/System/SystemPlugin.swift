import Foundation
import SwitchboardCore

/// `system.info` (read from /proc) and `system.general`, a config service kept in the datastore.
public struct SystemPlugin: Plugin {
    public let name = "system"
    public let dependencies = ["core"]

    public init() {}

    public func setUp(_ context: PluginContext) async throws {
        context.register(ServiceDescriptor(name: "system", description: "The machine the daemon runs on."))
        try context.register(SystemStats.source)
        try SystemInfoMethods.register(in: context)
        try await SystemGeneralService.register(in: context)
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
