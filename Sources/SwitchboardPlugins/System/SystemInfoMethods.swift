import Foundation
import SwitchboardCore

/// `system.info`: the machine and the daemon, read from /proc.
enum SystemInfoMethods {
    static func register(in context: PluginContext) throws {
        let daemon = context.daemon
        try context.register(MethodDescriptor(
            "system.info",
            description: "Host name, versions, uptime, boot time, load averages, CPU count and model, memory.",
            returns: ["type": "object", "properties": [
                "version": ["type": "string"], "hostname": ["type": "string"], "node": ["type": "string"], "uptime_seconds": ["type": "number"],
                "uptime": ["type": "string"], "boottime": ["type": ["object", "null"]], "loadavg": ["type": "array"],
                "cores": ["type": "integer"], "physical_cores": ["type": "integer"], "model": ["type": ["string", "null"]],
                "physmem": ["type": ["integer", "null"]], "available_memory": ["type": ["integer", "null"]],
                "kernel": ["type": ["string", "null"]], "datetime": ["type": "object"], "daemon_uptime_seconds": ["type": "number"],
            ]],
            roles: [Role.readonlyAdmin], flags: .readonly
        ) { _, _ in
            let uptime = ProcFS.uptime ?? 0
            let memory = ProcFS.memory
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let daemonUptime = daemon.startedAt.duration(to: ContinuousClock.now)
            return [
                "version": .string("Switchboard-\(daemon.version)"),
                "hostname": .string(Runtime.hostname),
                "node": .string(daemon.nodeName),
                "uptime_seconds": .double(uptime),
                "uptime": .string(SystemPlugin.formatUptime(uptime)),
                "boottime": ProcFS.bootTime.map { ["$date": .int($0 * 1000)] } ?? .null,
                "loadavg": .array(ProcFS.loadAverages.map { .double($0) }),
                "cores": JSON(ProcessInfo.processInfo.activeProcessorCount),
                "physical_cores": JSON(ProcessInfo.processInfo.processorCount),
                "model": JSON(ProcFS.cpuModel),
                "physmem": memory["MemTotal"].map { .int($0) } ?? .null,
                "available_memory": memory["MemAvailable"].map { .int($0) } ?? .null,
                "kernel": JSON(ProcFS.kernelRelease),
                "datetime": ["$date": .int(now)],
                "daemon_uptime_seconds": .double(daemonUptime.inSeconds),
            ]
        })
    }
}
