/// Why the plugins could not be loaded; the message names the plugins involved.
public struct PluginLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
}
