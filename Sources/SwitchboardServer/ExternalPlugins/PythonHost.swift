import Foundation

/// Where the Python host module is, for `*.py` plugins: `dispatcher.python-host` when set; else
/// `../share/switchboard/switchboard_plugin.py` beside the executable (an installed daemon), or
/// `sdk/python/switchboard_plugin.py` in a folder above it (a daemon built in its source tree).
enum PythonHost {
    static let module = "switchboard_plugin.py"

    static func locate(executable: String = CommandLine.arguments.first ?? "") -> String? {
        let resolved = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        let installed = resolved.deletingLastPathComponent().appendingPathComponent("share/switchboard/\(module)").path
        if FileManager.default.fileExists(atPath: installed) { return installed }
        var folder = resolved
        for _ in 0..<6 {
            let candidate = folder.appendingPathComponent("sdk/python/\(module)").path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return nil
    }

    /// The interpreter as a path: `python3` is looked up in PATH (posix_spawn does not search it).
    static func interpreter(_ name: String) throws -> String {
        if name.contains("/") { return name }
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw ConfigurationError(path: "dispatcher.python", reason: "\(name) is not in PATH; set the interpreter's full path")
    }

    /// A plugin's name before it says one: its file's name without extension (seed 000 names plugins so).
    static func stem(of file: String) -> String {
        ((file as NSString).lastPathComponent as NSString).deletingPathExtension
    }
}
