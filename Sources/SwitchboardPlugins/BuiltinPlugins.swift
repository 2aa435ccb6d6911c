import SwitchboardCore

/// The plugins compiled into the daemon, in no particular order (the loader orders them).
public enum BuiltinPlugins {
    public static var all: [any Plugin] {
        [CorePlugin(), AuthPlugin(), UserPlugin(), TwoFactorPlugin(), APIKeyPlugin(), FreeNASPlugin(), FilesystemPlugin(), AuditPlugin(), SystemPlugin(), DispatcherPlugin()]
    }
}
