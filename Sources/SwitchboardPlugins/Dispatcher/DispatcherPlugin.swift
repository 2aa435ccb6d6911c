import SwitchboardCore

/// The process dispatcher of sysadm (seed 004): external commands run as jobs in named queues.
///
/// `no_queue` runs jobs in parallel; `pkg_queue`, `iocage_queue` and every queue named in the configuration run
/// one job at a time. A job is one command or a list run in order, stopping at the first non-zero exit; its
/// output goes to the job log and its exit codes to its result.
///
/// Configuration (`plugins.dispatcher`): `queues` (more serial queues), `allow_shell` (run command strings
/// through /bin/sh; default false: split into words, never interpreted), `environment` (added variables),
/// `working_directory`, `kill_grace_seconds` (SIGTERM to SIGKILL on abort, default 5).
public struct DispatcherPlugin: Plugin {
    public let name = "dispatcher"
    public let dependencies = ["core"]

    public init() {}

    public var configurationSchema: JSON {
        [
            "type": "object",
            "properties": [
                "queues": ["type": "array", "items": ["type": "string", "minLength": 1]],
                "allow_shell": ["type": "boolean"],
                "environment": ["type": "object", "additionalProperties": ["type": "string"]],
                "working_directory": ["type": "string", "minLength": 1],
                "kill_grace_seconds": ["type": "integer", "minimum": 0, "maximum": 3600],
            ],
            "additionalProperties": false,
        ]
    }

    static let parallelQueue = "no_queue"
    static let builtInQueues = ["pkg_queue", "iocage_queue"]

    public func setUp(_ context: PluginContext) async throws {
        let configuration = context.configuration
        var queues = Set(Self.builtInQueues + [Self.parallelQueue])
        for case .string(let queue) in configuration["queues"]?.arrayValue ?? [] { queues.insert(queue) }
        var environment: [String: String] = [:]
        for (key, value) in configuration["environment"]?.objectValue ?? [:] {
            guard let string = value.stringValue else {
                throw CallError(Errno.EINVAL, "plugins.dispatcher.environment.\(key) must be a string")
            }
            environment[key] = string
        }
        let runner = ProcessRunner(
            environment: environment, workingDirectory: configuration["working_directory"]?.stringValue,
            allowShell: configuration["allow_shell"]?.boolValue ?? false,
            killGrace: .seconds(configuration["kill_grace_seconds"]?.intValue ?? 5))
        let dispatcher = Dispatcher(jobs: context.jobs, runner: runner, queues: queues)
        context.register(ServiceDescriptor(name: "dispatcher", description: "External commands run as jobs in named queues (sysadm)."))

        let argsSchema: JSON = ["type": "object"]
        try context.register(MethodDescriptor(
            MethodName.dispatcherRun,
            description: "Runs commands as jobs: {\"queue\": \"pkg_queue\", \"<job id>\": \"<command>\" or [\"<cmd>\", ...]}. Returns {\"started\": [ids]}.",
            params: [Parameter("args", schema: argsSchema)], returns: ["type": "object"], roles: [Role.fullAdmin]
        ) { ctx, args in try await dispatcher.run(ctx, args[0]) })

        try context.register(MethodDescriptor(
            MethodName.dispatcherList,
            description: "Pending and running dispatcher jobs by queue: {\"jobs\": {\"<queue>\": {\"<id>\": {\"commands\", \"queue_position\", \"state\"}}}}.",
            params: [Parameter("args", schema: argsSchema, default: [:])], returns: ["type": "object"],
            roles: [Role.readonlyAdmin], flags: .readonly
        ) { _, _ in await dispatcher.list() })

        try context.register(MethodDescriptor(
            MethodName.dispatcherKill,
            description: "Kills pending or running dispatcher jobs: {\"job_id\": \"<id>\" or [\"<id>\", ...]}. Returns {\"killed\": {\"jobs\": [ids]}}.",
            params: [Parameter("args", schema: ["type": "object", "required": ["job_id"],
                                                 "properties": ["job_id": ["type": ["string", "array"], "items": ["type": "string"]],
                                                                "action": ["const": "kill"]]])],
            returns: ["type": "object"], roles: [Role.fullAdmin]
        ) { ctx, args in try await dispatcher.kill(ctx, args[0]) })
    }
}
