import Foundation
import Testing
import Logging
@testable import SwitchboardCore
@testable import SwitchboardServer

/// The daemon's log where operators want it (issue 20): syslog as RFC 5424 datagrams, a file that logrotate can
/// move away (SIGUSR1 reopens it), and JSON lines for log shippers. The real binary in each.
@Suite struct LoggingTests {
    /// `dispatcher.logging: syslog` sends each line to the configured socket as `<PRI>1 TIMESTAMP HOST APP PID - - MSG`,
    /// with the facility's and the level's priority; nothing goes to stderr.
    @Test func syslogMessagesReachTheSocketAsRFC5424() async throws {
        let dir = TestDaemon.makeStateDir()
        let socket = dir + "/log.sock"
        let receiver = try DatagramReceiver(path: socket)
        let served = try await ServedBinary.start(configuration: """
            {"dispatcher": {"logging": "syslog", "syslog-socket": "\(socket)", "syslog-facility": "local3"}}
            """, stateDir: dir, waitReady: false)
        let ready = try await eventuallyValue("the ready line by syslog") { receiver.received.first { $0.contains("ready in") } }
        let fields = ready.split(separator: " ", maxSplits: 7).map(String.init)
        #expect(fields.count == 8, "\(ready)")
        // local3 is 19, info is 6: 19 * 8 + 6.
        #expect(fields.first == "<158>1", "\(ready)")
        #expect(fields.dropFirst().first?.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z/) != nil, "\(ready)")
        #expect(fields.dropFirst(3).prefix(4) == ["switchboard", "\(served.pid)", "-", "-"], "\(ready)")
        #expect(fields.last?.contains("[SwitchboardServer] ready in") == true, "\(ready)")
        #expect(try await served.stop() == 0)
        let stopped = try await eventuallyValue("the last line by syslog") { receiver.received.first { $0.hasSuffix("stopped") } }
        #expect(stopped.hasPrefix("<158>1 "), "\(stopped)")
        #expect(!served.log.contains("ready in"), "\(served.log)")
    }

    /// A log file moved away (logrotate) and SIGUSR1: the daemon writes a new file at the path, starting with a
    /// line that says so; the moved file gets nothing more.
    @Test func aLogFileMovedAwayIsReopenedOnSIGUSR1() async throws {
        let dir = TestDaemon.makeStateDir()
        let file = dir + "/switchboard.log", moved = dir + "/switchboard.log.1"
        let served = try await ServedBinary.start(configuration: #"{"dispatcher": {"logging": "\#(file)"}}"#, stateDir: dir, logFile: file)
        try FileManager.default.moveItem(atPath: file, toPath: moved)
        kill(served.pid, SIGUSR1)
        try await served.waitForLog("log file reopened")
        #expect(try await served.stop() == 0)
        try await served.waitForLog("stopped")
        let old = try String(contentsOfFile: moved, encoding: .utf8)
        #expect(old.contains("ready in") && !old.contains("reopened") && !old.contains("stopped"), "\(old)")
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? Int) == 0o640)
    }

    /// `--log-format json`: one object per line with time, level, label, source and message, metadata alongside.
    @Test func jsonLinesForLogShippers() async throws {
        let served = try await ServedBinary.start(arguments: ["--log-format", "json"])
        let ready = try JSON.parse(try await served.waitForLog("ready in"))
        #expect(ready["level"] == "info" && ready["label"] == "switchboard" && ready["source"] == "SwitchboardServer", "\(ready)")
        #expect(ready["message"]?.stringValue?.hasPrefix("ready in ") == true, "\(ready)")
        #expect(ready["listen"] == .string("http://127.0.0.1:\(served.port)"), "\(ready)")
        #expect(ready["time"]?.stringValue?.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z/) != nil, "\(ready)")
        #expect(try await served.stop() == 0)
        for line in served.log.split(separator: "\n") {
            #expect((try? JSON.parse(String(line)))?["message"] != nil, "not a JSON line: \(line)")
        }
    }

    /// A file the daemon cannot open, and a syslog socket nobody listens on: the start fails with exit 2 and the
    /// reason, rather than a daemon that logs nowhere.
    @Test func aLogDestinationThatCannotBeOpenedStopsTheStart() async throws {
        for (configuration, reason) in [
            (#"{"dispatcher": {"logging": "/nonexistent/folder/switchboard.log"}}"#,
             "dispatcher.logging: cannot open the log file /nonexistent/folder/switchboard.log: No such file or directory"),
            (#"{"dispatcher": {"logging": "syslog", "syslog-socket": "/nonexistent/log.sock"}}"#,
             "dispatcher.syslog-socket: no syslog daemon takes messages at /nonexistent/log.sock: No such file or directory"),
        ] {
            let served = try await ServedBinary.start(configuration: configuration, waitReady: false)
            let status = try await Binary.onThread { [process = served.process] in
                process.waitUntilExit()
                return process.terminationStatus
            }
            #expect(status == 2)
            #expect(served.log.contains("switchboard: configuration error: \(reason)"), "\(served.log)")
        }
    }
}

/// The log handler itself: the daemon's one level, changed at run time; a logger's own level that only raises
/// the bar; the job named on what a job's body logs; the syslog and JSON shapes of odd values.
@Suite struct DaemonLogHandlerTests {
    static func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test func oneLevelForEveryLoggerChangedAtRunTime() throws {
        let path = TestDaemon.makeStateDir() + "/log"
        let logging = try DaemonLogging(destination: .file(path), format: .text, level: .info)
        let logger = Logger(label: "test") { logging.handler(label: $0) }
        var quiet = logger
        quiet.logLevel = .warning
        logger.debug("hidden at info")
        logging.setLevel(.debug)
        logger.debug("shown at debug")
        quiet.info("a quieted logger stays quiet")
        quiet.warning("but warns")
        #expect(Self.lines(path).map { $0.components(separatedBy: "] ").last ?? "" } == ["shown at debug", "but warns"])
        #expect(logging.level == .debug && logger.logLevel == .debug && quiet.logLevel == .warning)
    }

    @Test func whatAJobsBodyLogsNamesTheJob() async throws {
        let path = TestDaemon.makeStateDir() + "/log"
        let logging = try DaemonLogging(destination: .file(path), format: .json, level: .info)
        var logger = Logger(label: "test", factory: { logging.handler(label: $0) })
        logger[metadataKey: "plugin"] = "backup"
        await JobManager.$enclosingJob.withValue(42) { logger.info("inside", metadata: ["step": "1"]) }
        logger.info("outside")
        let lines = try Self.lines(path).map { try JSON.parse($0) }
        #expect(lines.count == 2)
        #expect(lines.first?["job"] == "42" && lines.first?["plugin"] == "backup" && lines.first?["step"] == "1", "\(lines)")
        #expect(lines.last?["job"] == nil && lines.last?["message"] == "outside", "\(lines)")
    }

    @Test func syslogMessagesAreCutAtTheLimitOnACharacterBoundary() {
        let event = LogEvent(level: .error, message: "\(String(repeating: "é", count: 10_000))", metadata: nil,
                             source: "Test", file: #fileID, function: #function, line: #line)
        let bytes = LogRecordFormatter.syslog(event, label: "switchboard", metadata: ["k": .array(["a", .dictionary(["b": "c"])])],
                                              facility: .daemon, hostname: "nas")
        #expect(bytes.count <= 8_192 && bytes.count >= 8_190)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(!text.contains("\u{FFFD}"))
        // daemon is 3, error is 3.
        #expect(text.hasPrefix("<27>1 ") && text.contains(" nas switchboard \(getpid()) - - k=[a, [b: c]] [Test] éé"), "\(text.prefix(120))")
    }
}
