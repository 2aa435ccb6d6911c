import Foundation
import SwitchboardCore

/// `system.stats`: CPU, memory and load, once a second (or every `interval` seconds), as middlewared's
/// `reporting.realtime` does.
enum SystemStats {
    struct CPUTimes {
        var busy: UInt64
        var total: UInt64
    }

    static func cpuTimes() -> CPUTimes? {
        guard let line = ProcFS.read("/proc/stat")?.split(separator: "\n").first, line.hasPrefix("cpu ") else { return nil }
        let values = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard values.count >= 4 else { return nil }
        let idle = values[3] + (values.count > 4 ? values[4] : 0)
        let total = values.reduce(0, +)
        return CPUTimes(busy: total - idle, total: total)
    }

    static var source: EventSourceDescriptor {
        EventSourceDescriptor(
            "system.stats", description: "CPU usage, memory and load averages, once a second (argument {\"interval\": seconds}).",
            roles: [Role.readonlyAdmin],
            argumentSchema: ["type": ["object", "null"], "properties": ["interval": ["type": "number", "minimum": 0.1, "maximum": 3600]],
                             "additionalProperties": false]
        ) { argument, emit in
            let interval = argument["interval"]?.doubleValue ?? 1
            var previous = cpuTimes()
            while true {
                try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
                let current = cpuTimes()
                var cpu: JSON = .null
                if let previous, let current, current.total > previous.total {
                    cpu = .double(Double(current.busy - previous.busy) / Double(current.total - previous.total) * 100)
                }
                previous = current
                let memory = ProcFS.memory
                emit(.changed, .null, [
                    "cpu_percent": cpu,
                    "memory": ["total": memory["MemTotal"].map { .int($0) } ?? .null,
                               "available": memory["MemAvailable"].map { .int($0) } ?? .null,
                               "free": memory["MemFree"].map { .int($0) } ?? .null],
                    "loadavg": .array(ProcFS.loadAverages.map { .double($0) }),
                    "time": ["$date": .int(Int64(Date().timeIntervalSince1970 * 1000))],
                ])
            }
        }
    }
}
