import Dispatch
import Foundation
import Logging
import NIOPosix
import Synchronization
import Testing
import SwitchboardCore
@testable import SwitchboardServer

/// systemd's notification protocol and watchdog (issue 20): the real binary tells a socket the test binds as
/// `NOTIFY_SOCKET` when it is ready, reloading and stopping, and beats the watchdog; the watchdog itself stops
/// beating while an event loop or the datastore does not answer, and beats again once they do.
@Suite struct SystemdTests {
    @Test func readyReloadingStoppingAndTheWatchdogReachNotifySocket() async throws {
        let dir = TestDaemon.makeStateDir()
        let receiver = try DatagramReceiver(path: dir + "/notify.sock")
        let served = try await ServedBinary.start(environment: ["NOTIFY_SOCKET": receiver.path, "WATCHDOG_USEC": "1000000"], stateDir: dir)
        let ready = try await eventuallyValue("READY=1") { receiver.received.firstIndex { $0.hasPrefix("READY=1\n") } }
        #expect(receiver.received[ready] == "READY=1\nSTATUS=ready: listening on http://127.0.0.1:\(served.port)\nMAINPID=\(served.pid)")
        try await eventually("three watchdog beats") { receiver.received.filter { $0 == "WATCHDOG=1" }.count >= 3 }
        let reload = try await Binary.run(["ctl", "reload", "--socket", dir + "/control.sock"])
        #expect(reload.status == 0, "\(reload)")
        #expect(try await served.stop() == 0)
        // A beat missed on a loaded machine (and its recovery) is not what this test is about.
        let messages = receiver.received.filter { !$0.hasPrefix("WATCHDOG=1") && !$0.hasPrefix("STATUS=unhealthy") }
        #expect(messages.count == 4, "\(messages)")
        #expect(messages.dropFirst().first?.wholeMatch(of: /RELOADING=1\nMONOTONIC_USEC=\d+\nSTATUS=reloading plugins/) != nil, "\(messages)")
        #expect(Array(messages.dropFirst(2)) == ["READY=1\nSTATUS=ready", "STOPPING=1\nSTATUS=stopping"], "\(messages)")
    }

    /// The unit file under dist/ is one systemd accepts (`systemd-analyze verify`, with this build's binary as its
    /// ExecStart), and it asks for what the daemon gives: notification, the watchdog, reload by SIGHUP.
    @Test func theUnitFileVerifies() async throws {
        let source = Binary.packageRoot.appendingPathComponent("dist/systemd/switchboard.service")
        let text = try String(contentsOf: source, encoding: .utf8)
        for line in ["Type=notify", "WatchdogSec=30", "ExecReload=/bin/kill -HUP $MAINPID", "NoNewPrivileges=yes", "ProtectSystem=strict"] {
            #expect(text.contains("\n\(line)\n"), "\(line)")
        }
        let dir = TestDaemon.makeStateDir()
        let unit = dir + "/switchboard.service"
        try text.replacingOccurrences(of: "/usr/local/bin/switchboard", with: try #require(Binary.path)).write(toFile: unit, atomically: true, encoding: .utf8)
        let verified = try await Binary.run(executable: "/usr/bin/systemd-analyze", ["verify", unit])
        #expect(verified.status == 0 && verified.stderr.isEmpty, "\(verified)")
    }

    /// No `WATCHDOG_USEC`, or one meant for another process: no watchdog.
    @Test func theWatchdogRunsOnlyWhenAskedForThisProcess() throws {
        let notifier = try #require(SystemdNotifier(environment: ["NOTIFY_SOCKET": "/run/notify"]))
        let loops = [MultiThreadedEventLoopGroup.singleton.next()]
        let logger = Logger(label: "test")
        let none = SystemdWatchdog(notifier: notifier, environment: [:], loops: loops, ping: {}, logger: logger)
        let another = SystemdWatchdog(notifier: notifier, environment: ["WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"], loops: loops,
                                      ping: {}, logger: logger)
        let this = SystemdWatchdog(notifier: notifier, environment: ["WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "\(getpid())"], loops: loops,
                                   ping: {}, logger: logger)
        #expect(none == nil && another == nil)
        #expect(this?.interval == .milliseconds(500))
        #expect(SystemdNotifier(environment: [:]) == nil && SystemdNotifier(environment: ["NOTIFY_SOCKET": "relative"]) == nil)
    }

    /// A blocked event loop, then a datastore that fails: each stops the beats (with a `STATUS=` line naming it)
    /// until it answers again; the recovery's beat is the marker after which the absence is proven.
    @Test func aBlockedLoopOrAFailingDatastoreStopsTheBeats() async throws {
        let dir = TestDaemon.makeStateDir()
        let receiver = try DatagramReceiver(path: dir + "/notify.sock")
        let notifier = try #require(SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.path]))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        final class Datastore: Sendable {
            let failing = Atomic(false)
            let pings = Atomic(0)
        }
        let datastore = Datastore()
        let made = SystemdWatchdog(
            notifier: notifier, environment: ["WATCHDOG_USEC": "400000"], loops: Array(group.makeIterator()),
            ping: {
                datastore.pings.add(1, ordering: .relaxed)
                if datastore.failing.load(ordering: .relaxed) { throw CallError(Errno.EIO, "down for the test") }
            }, logger: Logger(label: "test"))
        let watchdog = try #require(made)
        let running = Task { await watchdog.run() }
        try await eventually("beats") { receiver.received.filter { $0 == "WATCHDOG=1" }.count >= 2 }

        let blocked = DispatchSemaphore(value: 0)
        let loops = Array(group.makeIterator())
        loops[1].execute { blocked.wait() }
        let unhealthy = try await eventuallyValue("the loop named") {
            receiver.received.firstIndex { $0 == "STATUS=unhealthy: event loop 1 did not run a task within 100 ms" }
        }
        blocked.signal()
        let recovered = try await eventuallyValue("beats again") {
            receiver.received.indices.first { $0 > unhealthy && receiver.received[$0] == "WATCHDOG=1\nSTATUS=ready" }
        }
        #expect(!receiver.received[unhealthy..<recovered].contains { $0.hasPrefix("WATCHDOG=1") }, "\(receiver.received)")

        datastore.failing.store(true, ordering: .relaxed)
        let down = try await eventuallyValue("the datastore named") {
            receiver.received.firstIndex { $0 == "STATUS=unhealthy: the datastore did not answer within 100 ms" }
        }
        // At least three checks fail in a row before the datastore comes back.
        let failedFrom = datastore.pings.load(ordering: .relaxed)
        try await eventually("more failed checks") { datastore.pings.load(ordering: .relaxed) >= failedFrom + 3 }
        datastore.failing.store(false, ordering: .relaxed)
        let back = try await eventuallyValue("beats again") {
            receiver.received.indices.first { $0 > down && receiver.received[$0] == "WATCHDOG=1\nSTATUS=ready" }
        }
        #expect(!receiver.received[down..<back].contains { $0.hasPrefix("WATCHDOG=1") }, "\(receiver.received)")
        running.cancel()
        await running.value
        try await group.shutdownGracefully()
    }
}
