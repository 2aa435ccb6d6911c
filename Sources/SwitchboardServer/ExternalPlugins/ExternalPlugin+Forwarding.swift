import Foundation
import SwitchboardCore

/// What the daemon sends the plugin: calls of its methods, jobs, event-source starts and stops, and the events
/// its handlers asked for. Each call and job carries its caller, and a token to call back as that caller.
extension ExternalPlugin {
    /// The running process's link, or EAGAIN while it is down.
    func runningLink() throws(CallError) -> PluginLink {
        let (link, phase) = state.withLock { ($0.running?.link, $0.phase) }
        guard let link else { throw unavailable(phase) }
        return link
    }

    /// What a call gets while the process is down.
    func unavailable(_ phase: Phase) -> CallError {
        if phase == .quarantined {
            return CallError(Errno.EAGAIN, "plugin \(name) is restarting: quarantined after failing too often, retried at the longest delay")
        }
        return CallError(Errno.EAGAIN, "plugin \(name) is restarting")
    }

    func forwardCall(_ method: String, _ args: [JSON], _ call: CallContext) async throws -> JSON {
        // One lock for the link and the token: this is the path every forwarded call takes.
        let (link, token, phase) = state.withLock { state -> (PluginLink?, String, Phase) in
            guard let link = state.running?.link else { return (nil, "", state.phase) }
            let token = state.issueToken()
            state.callers[token] = call
            return (link, token, state.phase)
        }
        guard let link else { throw unavailable(phase) }
        defer { _ = state.withLock { $0.callers.removeValue(forKey: token) } }
        let deadline = ContinuousClock.now.advanced(by: settings.callTimeout)
        let deadlineMillis = Session.wallClockMillis + Int64(settings.callTimeout.components.seconds) * 1_000
        return try await link.request("method.call", [
            "method": .string(method), "params": .array(args), "context": caller(call, token: token, deadlineMillis: deadlineMillis),
        ], deadline: deadline)
    }

    /// Runs a job in the plugin. An abort is passed on (`job.abort`) and the job ends when the plugin answers;
    /// a crash ends it FAILED with the reason.
    func forwardJob(_ method: String, _ args: [JSON], _ job: JobContext) async throws -> JSON {
        let link = try runningLink()
        let token = state.withLock { state in
            let token = state.issueToken()
            state.callers[token] = job.call
            state.jobs[job.id] = job
            return token
        }
        defer {
            state.withLock { state in
                state.callers.removeValue(forKey: token)
                state.jobs.removeValue(forKey: job.id)
            }
        }
        let result = try await link.request("job.run", [
            "method": .string(method), "params": .array(args), "job": .int(job.id),
            "context": caller(job.call, token: token, deadlineMillis: nil),
        ], cancellation: .abortJob(job.id))
        // An aborted job that the plugin finished anyway still ends ABORTED, as the client asked.
        try Task.checkCancellation()
        return result
    }

    /// Runs while the source has subscribers: `source.start` to the plugin, its `event.emit`s with this
    /// channel published, `source.stop` when the last subscriber leaves. A plugin restart ends the run with
    /// EAGAIN and the source supervisor starts it again once the plugin is back.
    func runSource(_ name: String, argument: JSON, emit: @escaping EventSourceDescriptor.Emit) async throws {
        let link = try runningLink()
        let channel = state.withLock { $0.issueToken() }
        let ended = OneShot<CallError?>()
        state.withLock { $0.sources[channel] = SourceRun(emit: emit, ended: ended) }
        defer { _ = state.withLock { $0.sources.removeValue(forKey: channel) } }
        link.notify("source.start", ["source": .string(channel), "name": .string(name), "argument": argument])
        guard let outcome = await ended.wait() else {
            link.notify("source.stop", ["source": .string(channel)])
            throw CancellationError()
        }
        if let error = outcome { throw error }
    }

    /// An event one of the plugin's handlers asked for. Runs inside `emit`: a write on the link, nothing more.
    func deliver(_ event: Event, mask: String) {
        guard let link = state.withLock({ $0.running?.link }) else { return }
        link.notify("event", [
            "mask": .string(mask), "name": .string(event.name), "kind": .string(event.kind.rawValue), "id": event.id, "fields": event.fields,
        ])
    }

    private func caller(_ call: CallContext, token: String, deadlineMillis: Int64?) -> JSON {
        let credentials = call.credentials
        return [
            "call": .string(token),
            "user": credentials.map { .string($0.username) } ?? .null,
            "roles": JSON(strings: (credentials?.roles).map { $0.sorted() } ?? []),
            "session": .string(call.session.id),
            "dialect": .string(call.session.dialect),
            "deadline_ms": deadlineMillis.map { .int($0) } ?? .null,
        ]
    }
}
