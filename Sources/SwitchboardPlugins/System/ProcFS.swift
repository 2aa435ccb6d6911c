import Foundation

/// Readings from Linux's /proc, each `nil` where the file is missing (another OS, a restricted container).
enum ProcFS {
    static func read(_ path: String) -> String? {
        try? String(contentsOfFile: path, encoding: .utf8)
    }

    /// Seconds since boot.
    static var uptime: Double? {
        read("/proc/uptime")?.split(separator: " ").first.flatMap { Double($0) }
    }

    static var loadAverages: [Double] {
        guard let text = read("/proc/loadavg") else { return [] }
        return text.split(separator: " ").prefix(3).compactMap { Double($0) }
    }

    /// Boot time, seconds since the epoch (`btime` in /proc/stat).
    static var bootTime: Int64? {
        guard let text = read("/proc/stat") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Int64(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// /proc/meminfo values in bytes, by key (`MemTotal`, `MemAvailable`, ...).
    static var memory: [String: Int64] {
        guard let text = read("/proc/meminfo") else { return [:] }
        var values: [String: Int64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let fields = parts[1].split(separator: " ")
            guard let number = fields.first.flatMap({ Int64($0) }) else { continue }
            values[String(parts[0])] = fields.count > 1 && fields[1] == "kB" ? number * 1024 : number
        }
        return values
    }

    static var cpuModel: String? {
        guard let text = read("/proc/cpuinfo") else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            return line.split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    static var kernelRelease: String? {
        read("/proc/sys/kernel/osrelease")?.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
