/// Capabilities beyond registering and calling that a plugin must declare (`Plugin.needs`) to be given: each
/// reaches other users' sessions or the daemon's guards, so a plugin that did not ask cannot touch them, and
/// `plugin.query` shows who did.
public struct PluginNeeds: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// `PluginContext.sessions()`: list every open session and terminate one.
    public static let sessions = PluginNeeds(rawValue: 1 << 0)
    /// `PluginContext.loginGuard()`: count logins, read and clear lockouts.
    public static let loginGuard = PluginNeeds(rawValue: 1 << 1)
    /// `PluginContext.auditTrail()`: read the audit trail.
    public static let auditTrail = PluginNeeds(rawValue: 1 << 2)
    /// `PluginContext.workers()`: list, start, stop and restart every plugin's workers.
    public static let workers = PluginNeeds(rawValue: 1 << 3)

    static let names: [(PluginNeeds, String)] = [(.sessions, "sessions"), (.loginGuard, "login_guard"), (.auditTrail, "audit_trail"),
                                                 (.workers, "workers")]

    var labels: [String] { Self.names.filter { contains($0.0) }.map(\.1) }
}
