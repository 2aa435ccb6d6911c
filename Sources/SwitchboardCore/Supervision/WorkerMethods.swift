/// `worker.query`, `worker.start`, `worker.stop` and `worker.restart`, and the `worker.query` event: the daemon's
/// own methods over the plugins' workers, registered with the plugin methods (no plugin needs to be loaded
/// for an operator to see and steer the workers). `worker.query` also lists the other supervised units in the
/// same shape: each event source's producers and each external plugin's process.
public enum WorkerMethods {
    static func register(in runtime: Runtime, loader: PluginLoader) throws {
        let workers = runtime.workers
        runtime.registry.register(ServiceDescriptor(name: "worker", description: "The plugins' long-running workers: their state, starting and stopping them.",
                                                    plugin: PluginMethods.daemonPlugin))
        runtime.events.register(EventTypeDescriptor(
            WorkerSupervisor.eventName, description: "A worker was registered (added), changed state (changed) or withdrawn with its "
                + "plugin (removed); fields: its worker.query row.",
            roles: [Role.readonlyAdmin]))

        try runtime.registry.register(MethodDescriptor(
            MethodName.workerQuery,
            description: "Every supervised unit with the query language: name, kind (worker; event_source, a producer per argument "
                + "or one available row; plugin, an external plugin's process named plugin:<name>), plugin, description, state "
                + "(available, running, stopping, failed, quarantined), restarts, last_error (why it last died), started_at (of the "
                + "current run). worker.start, stop and restart act on workers only.",
            params: QueryArguments.parameters, returns: true, roles: [Role.readonlyAdmin], flags: .readonly
        ) { _, args in
            let (filters, options) = try QueryArguments.parse(args)
            let rows = workers.all + runtime.events.sourceStatuses + (await loader.supervised)
            return try QueryEngine.run(rows.sorted { $0.name < $1.name }.map(\.json), filters: filters, options: options)
        })

        let name = [Parameter("name", schema: ["type": "string", "minLength": 1])]
        try runtime.registry.register(MethodDescriptor(
            MethodName.workerStart,
            description: "Starts a worker that is not running (a failed or quarantined one at once); returns its row.",
            params: name, returns: ["type": "object"], roles: [Role.fullAdmin]
        ) { ctx, args in
            try await Self.refuseOtherUnits(args[0].stringValue ?? "", runtime: runtime, loader: loader)
            let status = try workers.start(args[0].stringValue ?? "")
            ctx.logger.notice("worker started", metadata: ["worker": .string(status.name), "by": .string(ctx.credentials?.username ?? "")])
            return status.json
        })
        try runtime.registry.register(MethodDescriptor(
            MethodName.workerStop,
            description: "Stops a worker (its disable, then its task cancelled); it stays available until started again. Returns its row.",
            params: name, returns: ["type": "object"], roles: [Role.fullAdmin]
        ) { ctx, args in
            try await Self.refuseOtherUnits(args[0].stringValue ?? "", runtime: runtime, loader: loader)
            let status = try await workers.stop(args[0].stringValue ?? "")
            ctx.logger.notice("worker stopped", metadata: ["worker": .string(status.name), "by": .string(ctx.credentials?.username ?? "")])
            return status.json
        })
        try runtime.registry.register(MethodDescriptor(
            MethodName.workerRestart,
            description: "Stops a worker and starts it again; returns its row.",
            params: name, returns: ["type": "object"], roles: [Role.fullAdmin]
        ) { ctx, args in
            try await Self.refuseOtherUnits(args[0].stringValue ?? "", runtime: runtime, loader: loader)
            let status = try await workers.restart(args[0].stringValue ?? "")
            ctx.logger.notice("worker restarted", metadata: ["worker": .string(status.name), "by": .string(ctx.credentials?.username ?? "")])
            return status.json
        })
    }

    /// EINVAL for the name of an event source's producer or a plugin's process: they are listed with the workers
    /// but run by something else, which the reason names.
    static func refuseOtherUnits(_ name: String, runtime: Runtime, loader: PluginLoader) async throws(CallError) {
        guard runtime.workers.status(name) == nil else { return }
        if runtime.events.sourceStatuses.contains(where: { $0.name == name }) {
            throw CallError(Errno.EINVAL, "\(name) is an event source: it runs while someone subscribes to it")
        }
        if await loader.supervised.contains(where: { $0.name == name }) {
            throw CallError(Errno.EINVAL, "\(name) is a plugin's process: plugin.reload restarts it")
        }
    }
}
