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
        return try await link.request("method.call", deadline: deadline) { writer in
            writer.writeRaw(#"{"method":"#)
            writer.writeString(method)
            writer.writeRaw(#","params":"#)
            writer.write(.array(args))
            writer.writeRaw(#","context":"#)
            Self.writeCaller(call, token: token, deadlineMillis: deadlineMillis, into: &writer)
            writer.writeRaw("}")
        }
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
                state.inputFiles.removeValue(forKey: job.id)
            }
        }
        let result = try await link.request("job.run", cancellation: .abortJob(job.id)) { writer in
            writer.writeRaw(#"{"method":"#)
            writer.writeString(method)
            writer.writeRaw(#","params":"#)
            writer.write(.array(args))
            writer.writeRaw(#","job":"#)
            writer.writeInteger(job.id)
            writer.writeRaw(#","context":"#)
            Self.writeCaller(job.call, token: token, deadlineMillis: nil, into: &writer)
            writer.writeRaw("}")
        }
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

    /// The `context` of a call or job (docs/plugin-protocol.md): who calls, as whom the plugin may call back.
    private static func writeCaller(_ call: CallContext, token: String, deadlineMillis: Int64?, into writer: inout JSONWriter) {
        let credentials = call.credentials
        writer.writeRaw(#"{"call":"#)
        writer.writeString(token)
        writer.writeRaw(#","user":"#)
        if let credentials { writer.writeString(credentials.username) } else { writer.writeRaw("null") }
        writer.writeRaw(#","roles":["#)
        for (index, role) in (credentials?.roles.sorted() ?? []).enumerated() {
            if index > 0 { writer.writeRaw(",") }
            writer.writeString(role)
        }
        writer.writeRaw(#"],"session":"#)
        writer.writeString(call.session.id)
        writer.writeRaw(#","dialect":"#)
        writer.writeString(call.session.dialect)
        writer.writeRaw(#","deadline_ms":"#)
        if let deadlineMillis { writer.writeInteger(deadlineMillis) } else { writer.writeRaw("null") }
        writer.writeRaw("}")
    }
}
