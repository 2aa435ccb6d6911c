/// Every open session and terminating one: given to plugins that declare `PluginNeeds.sessions`.
public struct SessionControl: Sendable {
    let directory: SessionDirectory

    public var sessions: [Session] { directory.sessions }
    /// Client connections by dialect (`SessionDirectory.clientsByDialect`).
    public var clientsByDialect: [String: Int] { directory.clientsByDialect }

    /// Closes a session's connection at once (close code 1008); false when there is no such session.
    @discardableResult
    public func terminate(id: String) -> Bool { directory.terminate(id: id) }
}
