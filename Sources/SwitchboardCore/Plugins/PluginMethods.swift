/// `plugin.query`, `plugin.reload` and `plugin.reload_all`: the daemon's own methods over its plugins,
/// registered by the loader (no plugin can reload plugins through the plugin API).
public enum PluginMethods {
    /// The owner shown for what the daemon registers itself.
    static let daemonPlugin = "(daemon)"
    /// The event an external plugin's supervisor emits on each change of its process.
    public static let processEventName = "plugin.process"

    static func register(in runtime: Runtime, loader: PluginLoader) throws {
        runtime.registry.register(ServiceDescriptor(name: "plugin", description: "The loaded plugins: their state, what they registered, reloading.",
                                                    plugin: daemonPlugin))
        runtime.events.register(EventTypeDescriptor(
            PluginLoader.eventName, description: "A plugin's state changed (loaded, unloaded, disabled, failed); fields: its plugin.query row.",
            roles: [Role.readonlyAdmin]))
        runtime.events.register(EventTypeDescriptor(
            processEventName, description: "An external plugin's process changed state (starting, running, restarting, quarantined, "
                + "stopped); fields: name, state, pid, restarts, exit (how it ended), reason, next_start_ms, and the last lines it printed.",
            roles: [Role.readonlyAdmin]))

        try runtime.registry.register(MethodDescriptor(
            MethodName.pluginQuery,
            description: "Every plugin with the query language: name, kind (builtin, external), state (loaded, disabled, unloaded, "
                + "failed), dependencies, dependents, needs, registered (services, methods, event types and sources, handlers, schemas, HTTP routes, tables), "
                + "loaded_at, setup_ms, last_error, and status (an external plugin's process: pid, state, restarts, last exit).",
            params: QueryArguments.parameters, returns: true, roles: [Role.readonlyAdmin], flags: .readonly
        ) { _, args in
            let (filters, options) = try QueryArguments.parse(args)
            return try QueryEngine.run(await loader.query, filters: filters, options: options)
        })

        try runtime.registry.register(MethodDescriptor(
            MethodName.pluginReload,
            description: "Reloads a plugin and every plugin that depends on it, with the configuration file read again: they are torn "
                + "down in reverse dependency order and set up again in order. Connections stay open; subscriptions to their events end "
                + "and can be made again. Returns their plugin.query rows; fails (EFAULT) naming a plugin whose setUp threw, which is "
                + "left failed while the rest run.",
            params: [Parameter("name", schema: ["type": "string", "minLength": 1])], returns: ["type": "array"], roles: [Role.fullAdmin]
        ) { ctx, args in
            ctx.logger.notice("plugin reload requested", metadata: ["plugin": .string(args[0].stringValue ?? ""),
                                                                     "by": .string(ctx.credentials?.username ?? "")])
            return .array(try await loader.reload([args[0].stringValue ?? ""]))
        })

        try runtime.registry.register(MethodDescriptor(
            MethodName.pluginReloadAll,
            description: "Reloads every plugin, as SIGHUP does. Returns their plugin.query rows.",
            returns: ["type": "array"], roles: [Role.fullAdmin]
        ) { ctx, _ in
            ctx.logger.notice("reload of all plugins requested", metadata: ["by": .string(ctx.credentials?.username ?? "")])
            return .array(try await loader.reload(nil))
        })
    }
}
