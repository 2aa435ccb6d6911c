import Foundation
import Testing
import SwitchboardCore

/// `switchboard serve` as a real process with its log in a file, ready once it has logged `ready in`: for tests
/// that need the daemon alone in its process (its RSS, signals, its exit status and log lines).
struct ServedBinary {
    let process: Process
    let stateDir: String
    let logPath: String
    let port: Int
    var socket: String { stateDir + "/switchboard.sock" }
    var pid: Int32 { process.processIdentifier }

    /// Starts the daemon on a fresh state folder and an ephemeral port, with `configuration` as its file if given.
    /// `fileLimit`: run under `ulimit -n` of this (soft and hard), as a box with a low limit would.
    /// `logFile`: where the daemon logs when its configuration sends the log there (read for readiness instead of
    /// stderr); `waitReady` false returns once the process runs (its log goes where the test reads it).
    static func start(configuration: String? = nil, environment: [String: String] = [:], fileLimit: Int? = nil,
                      arguments extra: [String] = [], stateDir: String? = nil, logFile: String? = nil, waitReady: Bool = true,
                      sourceLocation: SourceLocation = #_sourceLocation) async throws -> ServedBinary {
        guard let path = Binary.path else { throw CocoaError(.fileNoSuchFile) }
        let dir = stateDir ?? TestDaemon.makeStateDir()
        let stderrPath = dir + "/stderr.log"
        #expect(FileManager.default.createFile(atPath: stderrPath, contents: nil))
        let logPath = logFile ?? stderrPath
        var arguments = ["serve", "--state-dir", dir, "--port", "0"] + extra
        if let configuration {
            try configuration.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
            arguments += ["--config", dir + "/config.json"]
        }
        let process = Process()
        if let fileLimit {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -n \(fileLimit) && exec \"$0\" \"$@\"", path] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = arguments
        }
        process.environment = Binary.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
        var served = ServedBinary(process: process, stateDir: dir, logPath: logPath, port: 0)
        guard waitReady else { return served }
        let ready = try await served.waitForLog("ready in", sourceLocation: sourceLocation)
        let listen: Substring
        if ready.hasPrefix("{"), let url = (try? JSON.parse(ready))?["listen"]?.stringValue {
            listen = Substring(url)
        } else {
            listen = try #require(ready.split(separator: " ").first { $0.hasPrefix("listen=") }, sourceLocation: sourceLocation)
        }
        served = ServedBinary(process: process, stateDir: dir, logPath: logPath,
                              port: Int(listen.split(separator: ":").last ?? "") ?? 0)
        return served
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// The first log line containing `text`, once it is there (10 s at most).
    @discardableResult
    func waitForLog(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        var line: Substring?
        try await eventually("the daemon logged '\(text)'", sourceLocation: sourceLocation) {
            line = log.split(separator: "\n").first { $0.contains(text) }
            return line != nil || !process.isRunning
        }
        return try #require(line.map(String.init), "the daemon exited (\(process.terminationStatus)) before logging '\(text)':\n\(log)",
                            sourceLocation: sourceLocation)
    }

    /// Resident memory of the daemon, in bytes.
    var residentMemory: Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
        }
        return 0
    }

    /// The soft and hard limits on open files of the running daemon.
    var fileLimits: (soft: Int, hard: Int)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Max open files") }) else { return nil }
        let numbers = line.split(separator: " ").compactMap { Int($0) }
        guard numbers.count >= 2 else { return nil }
        return (numbers[0], numbers[1])
    }

    /// SIGTERM, then the exit status.
    func stop() async throws -> Int32 {
        kill(pid, SIGTERM)
        return try await Binary.onThread { [process] in
            process.waitUntilExit()
            return process.terminationStatus
        }
    }
}
