import Foundation
import Subprocess
import SwitchboardCore
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs one command of a dispatcher job: its own session and process group, output into the job log, and on
/// abort SIGTERM to the whole group, then SIGKILL after the grace period.
struct ProcessRunner: Sendable {
    var environment: [String: String]
    var workingDirectory: String?
    var allowShell: Bool
    var killGrace: Duration

    /// The argv a command runs as: split without a shell, or `/bin/sh -c` when the configuration allows shells.
    func argv(_ command: JSON) throws(CallError) -> [String] {
        switch command {
        case .string(let line):
            return allowShell ? ["/bin/sh", "-c", line] : try CommandLineSplitter.split(line)
        case .array(let words):
            let strings = words.compactMap(\.stringValue)
            guard strings.count == words.count, !strings.isEmpty else {
                throw CallError(Errno.EINVAL, "A command given as a list must be a non-empty list of strings")
            }
            return strings
        default:
            throw CallError(Errno.EINVAL, "A command must be a string or a list of strings")
        }
    }

    /// Runs the command to its end; returns the exit status (128 + signal for a signalled process).
    func run(_ argv: [String], job: JobContext) async throws -> Int32 {
        var platform = PlatformOptions()
        platform.createSession = true
        platform.teardownSequence = [
            .gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: killGrace),
            .send(signal: .kill, toProcessGroup: true, allowedDurationToNextStep: .milliseconds(200)),
        ]
        let executable: Executable = argv[0].contains("/") ? .path(FilePath(argv[0])) : .name(argv[0])
        var env: Environment = .inherit
        if !environment.isEmpty {
            env = .inherit.updating(Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(stringLiteral: $0.key), $0.value) }))
        }
        let configuration = Configuration(
            executable: executable, arguments: Arguments(Array(argv.dropFirst())), environment: env,
            workingDirectory: workingDirectory.map { FilePath($0) }, platformOptions: platform)
        let result = try await Subprocess.run(configuration, input: .none, output: .sequence, error: .sequence) { execution in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await chunk in execution.standardOutput {
                        await job.log(bytes: chunk.withUnsafeBytes { Array($0) })
                    }
                }
                group.addTask {
                    for try await chunk in execution.standardError {
                        await job.log(bytes: chunk.withUnsafeBytes { Array($0) })
                    }
                }
                try await group.waitForAll()
            }
        }
        switch result.terminationStatus {
        case .exited(let code): return Int32(code)
        case .signaled(let signal): return 128 + Int32(signal)
        }
    }
}
