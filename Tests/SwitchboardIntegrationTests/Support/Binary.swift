import Foundation
import Testing

/// The built `switchboard` executable, run as a real subprocess.
enum Binary {
    /// Next to the test bundle in the build folder (`swift build` builds it with the tests).
    static var path: String? {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("switchboard").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        for sub in [".build/debug/switchboard", ".build/release/switchboard"] {
            let candidate = packageRoot.appendingPathComponent(sub).path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the binary to completion (bounded by `timeout`) on a thread of its own: the waiting must not take
    /// one of the few threads of the cooperative pool, which the in-process test daemon needs to answer.
    static func run(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:], timeout: Duration = .seconds(30),
                    directory: String? = nil) async throws -> Output {
        try await onThread { try runBlocking(arguments, stdin: stdin, environment: environment, timeout: timeout, directory: directory) }
    }

    /// Runs another program the same way (a third-party client, say).
    static func run(executable: String, _ arguments: [String], timeout: Duration = .seconds(60)) async throws -> Output {
        try await onThread { try runBlocking(arguments, stdin: nil, environment: [:], timeout: timeout, executable: executable) }
    }

    /// The package's root folder, found from this source file.
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Runs blocking work on a dedicated thread.
    static func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try work() }) }
            thread.start()
        }
    }

    static func runBlocking(_ arguments: [String], stdin: String?, environment: [String: String], timeout: Duration,
                            executable: String? = nil, directory: String? = nil) throws -> Output {
        guard let path = executable ?? path else {
            Issue.record("the switchboard executable was not found next to the tests; run `swift build` first")
            return Output(status: -1, stdout: "", stderr: "")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var env = Binary.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        // A watchdog, so a hung child fails the test instead of hanging the run.
        let pid = process.processIdentifier
        let watchdog = Thread {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if kill(pid, 0) != 0 { return }
                usleep(20_000)
            }
            kill(pid, SIGKILL)
        }
        watchdog.start()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL {
            Issue.record("\(path) \(arguments.joined(separator: " ")) did not finish within \(timeout)")
        }
        return Output(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                      stderr: String(decoding: stderrData, as: UTF8.self))
    }

    /// Starts `switchboard serve` on a state folder and waits until its local socket exists.
    static func serve(stateDir: String) async throws -> (Process, socket: String) {
        let process = try start(["serve", "--state-dir", stateDir, "--port", "0"])
        let socket = stateDir + "/switchboard.sock"
        let deadline = ContinuousClock.now + .seconds(20)
        while !FileManager.default.fileExists(atPath: socket) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        // A daemon that never made its socket is a failure, not a start: a later "socket removed" check would
        // otherwise pass without the daemon ever having run.
        guard FileManager.default.fileExists(atPath: socket) else {
            process.terminate()
            throw ScriptFailure(description: "switchboard serve made no socket at \(socket) within 20 s (running: \(process.isRunning))")
        }
        return (process, socket)
    }

    /// Starts `switchboard serve` in the background.
    static func start(_ arguments: [String]) throws -> Process {
        guard let path else { throw CocoaError(.fileNoSuchFile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = Binary.environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// The environment of every daemon the tests start: theirs, with the debug UI on a free port rather than
    /// 8180, so that daemons started side by side never fight over it (a test of the UI's port sets its own).
    static var environment: [String: String] {
        ProcessInfo.processInfo.environment.merging(["SWITCHBOARD_FRONTEND_PORT": "0"]) { $1 }
    }
}
