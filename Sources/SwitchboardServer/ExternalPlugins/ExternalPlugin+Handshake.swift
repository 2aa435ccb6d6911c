import Foundation
import SwitchboardCore
import SwitchboardWire

/// The opening exchange: `plugin.hello` (the manifest) answered with the plugin's configuration once it is its
/// turn to load, registrations it may add, then `plugin.ready`. All of it within the handshake timeout.
extension ExternalPlugin {
    struct HandshakeError: Error, CustomStringConvertible {
        let description: String
    }

    /// The protocol version this daemon speaks; a plugin names the one it speaks in its hello.
    static let protocolVersion: Int64 = 1

    /// Waits for the hello (unless discovery read it), declares what it lists, answers it, and waits for ready.
    /// What the previous incarnation declared and this one did not is withdrawn once it is ready.
    func handshake(_ incarnation: PluginIncarnation, hello known: (JSON, JSON)?) async throws {
        let timer = incarnation.timeout(after: settings.handshakeTimeout)
        defer { timer.cancel() }
        var steps = incarnation.steps.makeAsyncIterator()
        let helloID: JSON
        let hello: JSON
        if let known {
            (helloID, hello) = known
        } else {
            (helloID, hello) = try await nextHello(&steps)
        }
        let manifest: PluginManifest
        do {
            manifest = try PluginManifest(hello)
        } catch {
            incarnation.link.send(.error(id: helloID, error))
            throw HandshakeError(description: "its hello was refused: \(error.reason)")
        }
        if manifest.name != name {
            let error = CallError(Errno.EINVAL, "this file was loaded as plugin \(name); a plugin cannot change its name while the daemon runs")
            incarnation.link.send(.error(id: helloID, error))
            throw HandshakeError(description: error.reason)
        }
        if manifest.dependencies != dependencies {
            logger.warning("plugin declares other dependencies than at start; the load order keeps the first until the daemon restarts",
                           metadata: ["declared": .string(manifest.dependencies.joined(separator: ",")),
                                      "kept": .string(dependencies.joined(separator: ","))])
        }
        guard let context = state.withLock({ state -> PluginContext? in
            state.building = [:]
            state.version = manifest.version
            return state.context
        }) else { throw HandshakeError(description: "the plugin is not being set up") }
        do throws(CallError) {
            let declarations = try PluginDeclaration.list(from: hello)
            for declaration in declarations { try declare(declaration, in: context) }
        } catch {
            incarnation.link.send(.error(id: helloID, error))
            abandonBuilding(in: context)
            throw HandshakeError(description: "its hello was refused: \(error.reason)")
        }
        incarnation.link.send(.result(id: helloID, [
            "protocol": .int(Self.protocolVersion),
            "name": .string(name),
            "configuration": context.configuration,
            "daemon": ["version": .string(context.daemon.version), "state_directory": .string(context.daemon.stateDirectory)],
        ]))
        switch await steps.next() {
        case .ready(let id):
            incarnation.link.send(.result(id: id, true))
        case .hello: 
            abandonBuilding(in: context)
            throw HandshakeError(description: "a second plugin.hello")
        case .ended(let why):
            abandonBuilding(in: context)
            throw HandshakeError(description: "before saying ready, \(why)")
        case .timedOut, nil:
            abandonBuilding(in: context)
            throw HandshakeError(description: "no plugin.ready within \(settings.handshakeTimeout)")
        }
        // The handshake is over: what the last run declared and this one did not goes.
        let stale = state.withLock { state -> [PluginDeclaration] in
            let building = state.building ?? [:]
            let stale = state.active.values.filter { building[$0.key] == nil }
            state.active = building
            state.building = nil
            return stale
        }
        for declaration in stale { withdraw(declaration.kind, declaration.name, in: context) }
    }

    /// The plugin's hello: its request id and params.
    /// - Throws: `HandshakeError` saying what came instead (ready first, the process ending, the timeout).
    func nextHello(_ steps: inout AsyncStream<PluginIncarnation.Step>.Iterator) async throws(HandshakeError) -> (JSON, JSON) {
        switch await steps.next() {
        case .hello(let id, let params): return (id, params)
        case .ready: throw HandshakeError(description: "plugin.ready came before plugin.hello")
        case .ended(let why): throw HandshakeError(description: "before saying hello, \(why)")
        case .timedOut, nil: throw HandshakeError(description: "no plugin.hello within \(settings.handshakeTimeout)")
        }
    }

    /// A handshake that failed: what it newly registered is withdrawn, what was active stays.
    private func abandonBuilding(in context: PluginContext) {
        let added = state.withLock { state -> [PluginDeclaration] in
            let added = (state.building ?? [:]).values.filter { state.active[$0.key] == nil }
            state.building = nil
            return added
        }
        for declaration in added { withdraw(declaration.kind, declaration.name, in: context) }
    }
}
