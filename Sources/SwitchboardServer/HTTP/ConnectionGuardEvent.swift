import SwitchboardCore

/// What the rest of the daemon tells a connection's `ConnectionGuardHandler`, as user outbound events (they
/// travel from the pipeline's tail to the guard near its head).
enum ConnectionGuardEvent: Sendable {
    /// The HTTP request could not be parsed: answer 400 and close.
    case malformedRequest
    /// The connection is a WebSocket with this session: its frame limit follows the session's login.
    case session(Session)
}
