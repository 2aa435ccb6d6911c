#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import SwitchboardCore

/// One running external plugin process: its pid, the daemon's end of the socket pair the plugin sees as fd 3,
/// and the read ends of its stdout and stderr.
///
/// The child gets /dev/null as stdin, its own process group (so that stopping it stops what it started),
/// default signal dispositions and an empty signal mask whatever the daemon's are, and no other descriptor of
/// the daemon's: every descriptor the daemon opens is close-on-exec, and the three given are dup'ed over 1, 2, 3.
struct PluginProcess: Sendable {
    let pid: pid_t
    /// The daemon's end of the protocol socket.
    let control: CInt
    let stdout: CInt
    let stderr: CInt

    struct SpawnError: Error, CustomStringConvertible {
        let description: String
    }

    /// Starts `executable` with `arguments` (argv[1...]) and the daemon's environment plus `environment`.
    static func spawn(executable: String, arguments: [String], environment: [String: String]) throws -> PluginProcess {
        var pair: [CInt] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw SpawnError(description: "socketpair: \(String(cString: strerror(errno)))")
        }
        // stdout and stderr are socket pairs too: created close-on-exec atomically (pipe2 is not in Swift's
        // Glibc module), so a process another thread starts meanwhile cannot inherit them.
        var out: [CInt] = [-1, -1]
        var err: [CInt] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &out) == 0 else {
            close(pair[0]); close(pair[1])
            throw SpawnError(description: "socketpair: \(String(cString: strerror(errno)))")
        }
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &err) == 0 else {
            close(pair[0]); close(pair[1]); close(out[0]); close(out[1])
            throw SpawnError(description: "socketpair: \(String(cString: strerror(errno)))")
        }
        shutdown(out[0], Int32(SHUT_WR))
        shutdown(err[0], Int32(SHUT_WR))
        defer {
            // The child's ends: it has its own copies now (or spawning failed).
            close(pair[1]); close(out[1]); close(err[1])
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        posix_spawn_file_actions_adddup2(&actions, pair[1], 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGHUP, SIGINT, SIGTERM, SIGPIPE, SIGCHLD, SIGUSR1, SIGUSR2, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard status == 0 else {
            close(pair[0]); close(out[0]); close(err[0])
            throw SpawnError(description: "cannot start \(executable): \(String(cString: strerror(status)))")
        }
        return PluginProcess(pid: pid, control: pair[0], stdout: out[0], stderr: err[0])
    }

    /// Signals the plugin's whole process group (what it started too); the pid alone if it left the group.
    func signal(_ signal: CInt) {
        if kill(-pid, signal) != 0 { kill(pid, signal) }
    }

    /// Blocks a thread of its own until the process ends, then reports how it ended, and only then reaps it:
    /// until `report` has run the pid stays a zombie, so a signal sent before the report cannot reach another
    /// process that was given the same pid (`PluginIncarnation` sends none after it).
    func onExit(_ report: @escaping @Sendable (ExitStatus) -> Void) {
        let pid = self.pid
        let thread = Thread {
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1 {
                if errno != EINTR {
                    report(.unknown)
                    return
                }
            }
            let code = info.si_code
            let status = info._sifields._sigchld.si_status
            report(code == Int32(CLD_EXITED) ? .exited(status) : .signalled(status))
            var reaped: CInt = 0
            while waitpid(pid, &reaped, 0) == -1 && errno == EINTR {}
        }
        thread.name = "plugin-wait-\(pid)"
        thread.start()
    }

    /// How a process ended.
    enum ExitStatus: Sendable, Equatable, CustomStringConvertible {
        case exited(CInt)
        case signalled(CInt)
        case unknown

        var description: String {
            switch self {
            case .exited(let code): return "exited with status \(code)"
            case .signalled(let signal): return "killed by signal \(signal) (\(Self.signalName(signal)))"
            case .unknown: return "ended (status unknown)"
            }
        }

        var json: JSON {
            switch self {
            case .exited(let code): return ["code": .int(Int64(code)), "signal": .null, "description": .string(description)]
            case .signalled(let signal): return ["code": .null, "signal": .int(Int64(signal)), "description": .string(description)]
            case .unknown: return ["code": .null, "signal": .null, "description": .string(description)]
            }
        }

        static func signalName(_ signal: CInt) -> String {
            switch signal {
            case SIGKILL: return "SIGKILL"
            case SIGTERM: return "SIGTERM"
            case SIGSEGV: return "SIGSEGV"
            case SIGABRT: return "SIGABRT"
            case SIGINT: return "SIGINT"
            case SIGBUS: return "SIGBUS"
            case SIGILL: return "SIGILL"
            case SIGFPE: return "SIGFPE"
            default: return "signal \(signal)"
            }
        }
    }
}
