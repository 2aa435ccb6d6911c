import Foundation
import Logging
import SwitchboardCore

/// The operator's methods: `control.status`, `control.dump`, `control.reload`, `control.log_level` and
/// `control.stop`, for FULL_ADMIN on any socket and for `switchboard ctl` on the control socket (the names are
/// `MethodName`'s, which the CLI reads too).
enum ControlMethods {
    static func register(in context: PluginContext, control: DaemonControl) throws {
        let directory = try context.sessions()
        let daemon = context.daemon
        let jobs = context.jobs

        context.register(ServiceDescriptor(name: "control", description: "The daemon itself: status, dump, reload, log level, stop."))

        try context.register(MethodDescriptor(
            MethodName.controlStatus,
            description: "The daemon's state: pid, version, node, uptime, phase (starting, ready, reloading, stopping), "
                + "connections by dialect, this node's jobs by state, plugins with their states, memory and open files.",
            returns: ["type": "object"], roles: [Role.fullAdmin], flags: .readonly
        ) { _, _ in
            let connections = JSONObject(uniqueKeysWithValues: directory.clientsByDialect.sorted { $0.key < $1.key }.map { ($0.key, .int(Int64($0.value))) })
            let memory = ProcessFacts.memory
            let uptime = daemon.startedAt.duration(to: .now)
            return [
                "pid": .int(Int64(getpid())),
                "version": .string(daemon.version),
                "node": .string(daemon.nodeName),
                "phase": .string(control.phase.rawValue),
                "uptime_seconds": .double(uptime.inSeconds),
                "datastore": .string(control.datastore),
                "connections": .object(connections),
                "jobs": .object(JSONObject(uniqueKeysWithValues: jobs.stateCounts.map { ($0.key, .int(Int64($0.value))) })),
                "plugins": .array(await control.plugins),
                "memory": ["resident_bytes": memory.map { .int(Int64($0.resident)) } ?? .null,
                           "peak_resident_bytes": memory.map { .int(Int64($0.peak)) } ?? .null],
                "open_files": ProcessFacts.openFiles.map { .int(Int64($0)) } ?? .null,
                "open_file_limit": .int(Int64(ProcessFacts.openFileLimit)),
                "log_level": control.logging.map { .string($0.level.rawValue) } ?? .null,
            ]
        })

        try context.register(MethodDescriptor(
            MethodName.controlDump,
            description: "What the daemon is doing, for a bug report: every session with its calls running and queued "
                + "(method, state, seconds since it started or began to wait), "
                + "this node's unfinished jobs, and the dispatcher's queues.",
            returns: ["type": "object"], roles: [Role.fullAdmin], flags: .readonly
        ) { ctx, _ in
            let now = ContinuousClock.now
            let sessions: [JSON] = directory.sessions.filter { $0.origin != .internal }.sorted { $0.createdAtMillis < $1.createdAtMillis }.map { session in
                let (running, queued) = session.limiter.calls
                func rows(_ calls: [CallLimiter.Call], _ state: String) -> [JSON] {
                    calls.map { ["method": .string($0.method), "state": .string(state), "seconds": .double(Self.seconds(now - $0.since))] }
                }
                return [
                    "id": .string(session.id),
                    "dialect": .string(session.dialect),
                    "origin": .string(session.origin.description),
                    "user": session.credentials.map { .string($0.username) } ?? .null,
                    "created_at": ["$date": .int(session.createdAtMillis)],
                    "calls_running": .int(Int64(running.count)),
                    "calls_queued": .int(Int64(queued.count)),
                    "calls": .array(rows(running, "running") + rows(queued, "queued")),
                    "current": .bool(session === ctx.session),
                ]
            }
            let unfinished = try await jobs.query(
                filters: [.condition(QueryCondition(field: QueryPath("state"), op: .in, value: ["WAITING", "RUNNING"])),
                          .equal("node", .string(daemon.nodeName))],
                options: QueryOptions(), credentials: nil)
            // The dispatcher is a plugin that may be disabled: its queues are shown when it is there.
            let queues = (try? await ctx.callInternal(MethodName.dispatcherList)) ?? .null
            return ["sessions": .array(sessions), "jobs": unfinished, "queues": queues]
        })

        try context.register(MethodDescriptor(
            MethodName.controlReload,
            description: "Reloads a plugin and those that depend on it, or every plugin, with the configuration file read again.",
            params: [Parameter("plugin", schema: ["type": ["string", "null"]], default: .null)],
            returns: ["type": "array"], roles: [Role.fullAdmin]
        ) { _, args in
            .array(try await control.reload(args[0].stringValue.map { [$0] }))
        })

        try context.register(MethodDescriptor(
            MethodName.controlLogLevel,
            description: "Sets the level of every logger of the daemon at once; returns the level before and after.",
            params: [Parameter("level", schema: ["enum": .array(Logger.Level.allCases.map { .string($0.rawValue) })])],
            returns: ["type": "object"], roles: [Role.fullAdmin]
        ) { _, args in
            guard let level = args[0].stringValue.flatMap(Logger.Level.init(rawValue:)) else {
                throw CallError.validation("level", "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let previous = try control.setLogLevel(level)
            return ["previous": .string(previous.rawValue), "level": .string(level.rawValue)]
        })

        try context.register(MethodDescriptor(
            MethodName.controlStop,
            description: "Stops the daemon as SIGTERM does: new calls are refused (ESHUTDOWN) while those in flight get "
                + "dispatcher.shutdown-call-grace-seconds to end, then connections close, running jobs get "
                + "jobs.shutdown-grace-seconds (the rest are aborted), then plugins and the datastore close. During a stop, "
                + "cuts the call grace short. Answers before the stop begins.",
            returns: ["type": "boolean"], roles: [Role.fullAdmin]
        ) { ctx, _ in
            ctx.logger.notice("stop requested", metadata: ["by": .string(ctx.credentials?.username ?? "")])
            control.stopping()
            // The answer goes out first: the stop closes this connection with the others.
            Task { await control.stop() }
            return true
        })
    }

    /// A duration in seconds, to the millisecond.
    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds / 1_000_000_000_000_000) / 1_000
    }
}
