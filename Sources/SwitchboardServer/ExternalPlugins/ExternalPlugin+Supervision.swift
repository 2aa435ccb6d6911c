import Foundation
import Logging
import Synchronization
import SwitchboardCore
import SwitchboardWire

/// Starting the process, the handshake's outcome, and restarting it under the restart policy.
extension ExternalPlugin {
    /// Starts a process; its messages go to `received`, a protocol violation kills it.
    func spawn() async throws -> PluginIncarnation {
        let process = try PluginProcess.spawn(executable: command[0], arguments: Array(command.dropFirst()),
                                              environment: ["SWITCHBOARD_PLUGIN_FD": "3", "PYTHONUNBUFFERED": "1"])
        let exit = OneShot<PluginProcess.ExitStatus>()
        process.onExit { exit.resolve($0) }
        let steps = AsyncStream<PluginIncarnation.Step>.makeStream()
        let holder = IncarnationHolder()
        do {
            let output = PluginOutput()
            try await output.read(process.stdout, stream: "stdout", logger: logger)
            try await output.read(process.stderr, stream: "stderr", logger: logger)
            let link = try await PluginLink.open(
                descriptor: process.control, on: executor.loop, maxLine: settings.maxLine,
                onMessage: { [weak self] message in
                    guard let self, let incarnation = holder.value else { return }
                    self.received(message, from: incarnation)
                },
                onViolation: { [weak self] reason in
                    guard let self else { return }
                    self.logger.error("plugin killed: protocol violation", metadata: ["reason": .string(reason)])
                    steps.1.yield(.ended("it broke the protocol: \(reason)"))
                    holder.value?.kill("plugin \(self.name) broke the protocol: \(reason)")
                },
                onClose: { steps.1.yield(.ended(PluginIncarnation.closedSocket)) })
            let incarnation = PluginIncarnation(process: process, link: link, output: output, exit: exit, steps: steps)
            holder.set(incarnation)
            link.startReading()
            Task {
                if let status = await exit.wait() { steps.1.yield(.ended("it \(status)")) }
            }
            return incarnation
        } catch {
            process.signal(SIGKILL)
            throw error
        }
    }

    /// One start: spawn (or take the process discovery started), handshake. Nil when it failed; the process
    /// is gone then and the failure recorded.
    func attempt() async -> PluginIncarnation? {
        changePhase(.starting, reason: nil, exit: nil, lines: [])
        let discovered = state.withLock { state in
            defer { state.discovered = nil }
            return state.discovered
        }
        let incarnation: PluginIncarnation
        if let discovered {
            incarnation = discovered.incarnation
        } else {
            do {
                incarnation = try await spawn()
            } catch {
                state.withLock { $0.lastReason = "\(error)" }
                logger.error("plugin cannot be started", metadata: ["error": .string("\(error)")])
                return nil
            }
        }
        state.withLock { $0.pid = incarnation.process.pid }
        do {
            try await handshake(incarnation, hello: discovered.map { ($0.helloID, $0.hello) })
        } catch {
            await failedHandshake(incarnation, "\(error)")
            return nil
        }
        state.withLock { state in
            state.running = incarnation
            state.nextStartMillis = nil
        }
        changePhase(.running, reason: nil, exit: nil, lines: [])
        logger.info("plugin running", metadata: ["pid": .stringConvertible(incarnation.process.pid)])
        return incarnation
    }

    /// Records a handshake that failed and makes sure the process is gone. A process that closed its socket is
    /// given a moment to exit on its own, so that the record says how it ended rather than that it was killed.
    func failedHandshake(_ incarnation: PluginIncarnation, _ failure: String) async {
        var failure = failure
        if failure.hasSuffix(PluginIncarnation.closedSocket) {
            let exited = await withTaskGroup(of: PluginProcess.ExitStatus?.self) { group in
                group.addTask { await incarnation.exit.wait() }
                group.addTask { try? await Task.sleep(for: .seconds(1)); return nil }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
            if let exited { failure = failure.replacingOccurrences(of: PluginIncarnation.closedSocket, with: "it \(exited)") }
        }
        let reason = "handshake failed: \(failure)"
        logger.error("plugin handshake failed", metadata: ["error": .string(failure)])
        incarnation.kill("plugin \(name): \(reason)")
        _ = await incarnation.exit.wait()
        incarnation.link.close()
        let lines = await incarnation.output.settled(within: PluginOutput.drainWait)
        state.withLock { state in
            state.lastReason = reason
            state.lastExit = incarnation.exit.value
            state.lastLines = lines
        }
    }

    /// Watches the running process and restarts it when it ends, until the plugin is torn down.
    func supervise(_ first: PluginIncarnation?) async {
        var current = first
        var startedAt = ContinuousClock.now
        while !Task.isCancelled {
            if let incarnation = current {
                startedAt = incarnation.startedAt
                _ = await incarnation.exit.wait()
                if Task.isCancelled || state.withLock({ $0.stopping }) { return }
                await crashed(incarnation)
            }
            let decision = state.withLock { state in
                state.record.failed(at: .now, startedAt: startedAt, policy: settings.restart)
            }
            let delay: Duration
            let phase: Phase
            switch decision {
            case .restart(let after): delay = after; phase = .restarting
            case .quarantine(let after): delay = after; phase = .quarantined
            }
            let millis = Int64(delay.components.seconds) * 1_000 + delay.components.attoseconds / 1_000_000_000_000_000
            let (exit, reason, lines) = state.withLock { state in
                state.nextStartMillis = Session.wallClockMillis + millis
                return (state.lastExit, state.lastReason, state.lastLines)
            }
            changePhase(phase, reason: reason, exit: exit, lines: lines)
            if phase == .quarantined {
                logger.error("plugin quarantined: it failed too often; retrying at the longest delay",
                             metadata: ["retry_in_ms": .stringConvertible(millis), "reason": .string(reason ?? "")])
            }
            do { try await Task.sleep(for: delay) } catch { return }
            if state.withLock({ $0.stopping }) { return }
            startedAt = .now
            current = await attempt()
        }
    }

    /// The running process ended on its own: everything waiting on it fails now.
    private func crashed(_ incarnation: PluginIncarnation) async {
        let how = incarnation.killReason.withLock { $0 } ?? incarnation.exit.value?.description ?? "it ended"
        let error = CallError(Errno.EIO, "plugin \(name) crashed: \(how)")
        incarnation.link.failAll(error)
        incarnation.link.close()
        let lines = await incarnation.output.settled(within: PluginOutput.drainWait)
        let (sources, workerRuns) = state.withLock { state in
            state.running = nil
            state.pid = nil
            state.lastExit = incarnation.exit.value
            state.lastReason = error.reason
            state.lastLines = lines
            return (Array(state.sources.values), Array(state.workerRuns.values))
        }
        for source in sources { source.ended.resolve(CallError(Errno.EAGAIN, "plugin \(name) is restarting")) }
        // A worker whose plugin died has died with it: its restart policy decides when it runs again.
        for run in workerRuns { run.resolve(error) }
        logger.error("plugin crashed", metadata: ["reason": .string(how), "last_lines": .array(lines.map { .string($0) })])
    }

    /// Records a change of the process's state: a `plugin.process` event and an audit record.
    func changePhase(_ phase: Phase, reason: String?, exit: PluginProcess.ExitStatus?, lines: [String]) {
        let (context, before, restarts, pid, next) = state.withLock { state in
            defer { state.phase = phase }
            return (state.context, state.phase, state.record.restarts, state.pid, state.nextStartMillis)
        }
        guard let context, before != phase || phase == .restarting || phase == .quarantined else { return }
        let fields: JSON = [
            "name": .string(name), "state": .string(phase.rawValue), "pid": pid.map { .int(Int64($0)) } ?? .null,
            "restarts": .int(Int64(restarts)), "exit": exit?.json ?? .null, "reason": reason.map(JSON.string) ?? .null,
            "next_start_ms": next.map { .int($0) } ?? .null, "last_lines": JSON(strings: lines),
        ]
        context.emit(PluginMethods.processEventName) {
            Event(name: PluginMethods.processEventName, kind: .changed, id: .string(name), fields: fields)
        }
        guard phase != .starting, let trail = try? context.auditTrail() else { return }
        let failed = phase == .restarting || phase == .quarantined
        trail.record(event: "PLUGIN", subject: "plugin.\(phase.rawValue)", details: fields, success: !failed,
                     errno: failed ? Errno.EIO : nil, error: failed ? reason : nil)
    }
}

/// Lets the link's callbacks, made before the incarnation exists, reach it: set before the link reads anything.
final class IncarnationHolder: Sendable {
    private let incarnation = Mutex<PluginIncarnation?>(nil)
    func set(_ value: PluginIncarnation) { incarnation.withLock { $0 = value } }
    var value: PluginIncarnation? { incarnation.withLock { $0 } }
}
