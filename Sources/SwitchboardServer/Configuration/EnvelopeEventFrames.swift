/// `dispatcher.envelope-events`: how the envelope dialect frames events for a connection that has not said
/// which client it is. `sysadm` (the default, spec/protocols.md) sends `events/<event name>`; `freenas` sends
/// FreeNAS 10's `events/event` with `{name, args}` and answers `rpc/auth` with `[token, lifetime, username]`.
/// A connection that calls `management.enable_features` (only FreeNAS 10's clients do) gets FreeNAS 10's frames
/// either way.
public enum EnvelopeEventFrames: String, Sendable {
    case sysadm
    case freenas
}
