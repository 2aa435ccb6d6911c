/// `worker.query`, `worker.start`, `worker.stop` and `worker.restart`, and the `worker.query` event: the daemon's
/// own methods over the plugins' workers, registered with the plugin methods (no plugin needs to be loaded
/// for an operator to see and steer the workers).
public enum WorkerMethods {
    static func register(in runtime: Runtime) throws {
        let workers = runtime.workers
        runtime.registry.register(ServiceDescriptor(name: "worker", description: "The plugins' long-running workers: their state, starting and stopping them.",
                                                    plugin: PluginMethods.daemonPlugin))
        runtime.events.register(EventTypeDescriptor(
            WorkerSupervisor.eventName, description: "A worker was registered (added), changed state (changed) or withdrawn with its "
                + "plugin (removed); fields: its worker.query row.",
            roles: [Role.readonlyAdmin]))

        try runtime.registry.register(MethodDescriptor(
            MethodName.workerQuery,
            description: "Every worker with the query language: name, plugin, description, state (available, running, stopping, failed, "
                + "quarantined), restarts, last_error (why it last died), started_at (of the current run).",
            params: QueryArguments.parameters, returns: true, roles: [Role.readonlyAdmin], flags: .readonly
        ) { _, args in
            let (filters, options) = try QueryArguments.parse(args)
            return try QueryEngine.run(workers.all.map(\.json), filters: filters, options: options)
        })

        let name = [Parameter("name", schema: ["type": "string", "minLength": 1])]
        try runtime.registry.register(MethodDescriptor(
            MethodName.workerStart,
            description: "Starts a worker that is not running (a failed or quarantined one at once); returns its row.",
            params: name, returns: ["type": "object"], roles: [Role.fullAdmin]
        ) { ctx, args in
            let status = try workers.start(args[0].stringValue ?? "")
            ctx.logger.notice("worker started", metadata: ["worker": .string(status.name), "by": .string(ctx.credentials?.username ?? "")])
            return status.json
        })
        try runtime.registry.register(MethodDescriptor(
            MethodName.workerStop,
            description: "Stops a worker (its disable, then its task cancelled); it stays available until started again. Returns its row.",
            params: name, returns: ["type": "object"], roles: [Role.fullAdmin]
        ) { ctx, args in
            let status = try await workers.stop(args[0].stringValue ?? "")
            ctx.logger.notice("worker stopped", metadata: ["worker": .string(status.name), "by": .string(ctx.credentials?.username ?? "")])
            return status.json
        })
        try runtime.registry.register(MethodDescriptor(
            MethodName.workerRestart,
            description: "Stops a worker and starts it again; returns its row.",
            params: name, returns: ["type": "object"], roles: [Role.fullAdmin]
        ) { ctx, args in
            let status = try await workers.restart(args[0].stringValue ?? "")
            ctx.logger.notice("worker restarted", metadata: ["worker": .string(status.name), "by": .string(ctx.credentials?.username ?? "")])
            return status.json
        })
    }
}
