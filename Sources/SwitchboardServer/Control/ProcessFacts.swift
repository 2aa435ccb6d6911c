import Foundation

/// The daemon process as the kernel sees it: memory and open files, from `/proc/self`.
enum ProcessFacts {
    /// Resident and peak resident memory in bytes (`VmRSS`, `VmHWM`); nil where `/proc` has no such file.
    static var memory: (resident: Int, peak: Int)? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        func kilobytes(_ key: String) -> Int? {
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }) else { return nil }
            return line.split(separator: " ").compactMap { Int($0) }.first
        }
        guard let resident = kilobytes("VmRSS") else { return nil }
        return (resident * 1024, (kilobytes("VmHWM") ?? resident) * 1024)
    }

    /// Open file descriptors.
    static var openFiles: Int? {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")).map { max(0, $0.count - 1) }
    }

    /// The soft limit on open files.
    static var openFileLimit: Int {
        var limit = rlimit()
        return getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Int(limit.rlim_cur) : 0
    }
}
