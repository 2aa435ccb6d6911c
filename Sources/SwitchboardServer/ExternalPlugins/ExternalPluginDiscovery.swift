import Foundation
import Logging
import SwitchboardCore

/// Finds the external plugins in `dispatcher.plugin-dirs`: every executable regular file, and every `*.py`
/// file (run by the Python host), in name order; hidden files and anything else are skipped. Each is started
/// and asked its name and dependencies (all at once, so a slow one delays start by one handshake timeout, not
/// one each). A plugin whose name is taken, by a compiled-in plugin or an earlier file, is refused with both
/// named and its process stopped; the others load.
public enum ExternalPluginDiscovery {
    public static func discover(settings: ExternalPluginSettings, taken: Set<String>, logger: Logger) async throws -> [ExternalPlugin] {
        var candidates: [(file: String, command: [String])] = []
        for directory in settings.directories {
            let entries: [String]
            do {
                entries = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
            } catch {
                throw ConfigurationError(path: "dispatcher.plugin-dirs", reason: "cannot read the folder \(directory): \(error.localizedDescription)")
            }
            for entry in entries where !entry.hasPrefix(".") {
                let path = (directory as NSString).appendingPathComponent(entry)
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
                if entry.hasSuffix(".py") {
                    guard let host = settings.pythonHost ?? PythonHost.locate() else {
                        throw ConfigurationError(path: "dispatcher.python-host",
                                                 reason: "\(path) needs the Python host (sdk/python/switchboard_plugin.py) and none was found; set this key")
                    }
                    candidates.append((path, [try PythonHost.interpreter(settings.python), host, path]))
                } else if FileManager.default.isExecutableFile(atPath: path) {
                    candidates.append((path, [path]))
                } else {
                    logger.debug("not a plugin: neither executable nor *.py", metadata: ["file": .string(path)])
                }
            }
        }
        let plugins = candidates.map { candidate in
            ExternalPlugin(name: PythonHost.stem(of: candidate.file), file: candidate.file, command: candidate.command,
                           settings: settings, logger: logger)
        }
        await withTaskGroup(of: Void.self) { group in
            for plugin in plugins { group.addTask { await plugin.discover() } }
        }
        var names = taken
        var files: [String: String] = [:]
        var accepted: [ExternalPlugin] = []
        for plugin in plugins {
            guard !names.contains(plugin.name) else {
                let other = files[plugin.name].map { "the plugin in \($0)" } ?? "a compiled-in plugin"
                logger.error("plugin not loaded: its name is taken", metadata: [
                    "plugin": .string(plugin.name), "file": .string(plugin.file), "taken_by": .string(other)])
                await plugin.release()
                continue
            }
            names.insert(plugin.name)
            files[plugin.name] = plugin.file
            accepted.append(plugin)
        }
        return accepted
    }
}
