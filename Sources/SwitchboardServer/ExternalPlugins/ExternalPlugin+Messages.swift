import Logging
import SwitchboardCore
import SwitchboardWire

/// What the plugin sends the daemon, handled in arrival order on the link's event loop: nothing here waits,
/// except `daemon.call`, which runs in a task of its own, at most `maxPendingRequests` at a time.
extension ExternalPlugin {
    func received(_ message: PluginMessage, from incarnation: PluginIncarnation) {
        // Once the daemon has decided to kill it, nothing more it says is acted on.
        if incarnation.killReason.withLock({ $0 != nil }) { return }
        let link = incarnation.link
        switch message {
        case .request(let id, "plugin.hello", let params):
            incarnation.stepsContinuation.yield(.hello(id: id, params: params))
        case .request(let id, "plugin.ready", _):
            incarnation.stepsContinuation.yield(.ready(id: id))
        case .request(let id, "plugin.register", let params):
            link.send(answer(id) { context throws(CallError) in
                for declaration in try PluginDeclaration.list(from: params) { try declare(declaration, in: context) }
                return true
            })
        case .request(let id, "plugin.unregister", let params):
            link.send(answer(id) { context throws(CallError) in
                for (kind, name) in try PluginDeclaration.names(from: params) { withdraw(kind, name, in: context) }
                return true
            })
        case .request(let id, "daemon.call", let params):
            callBack(id, params, incarnation)
        case .request(let id, let method, let params) where Self.pipeRequests.contains(method):
            pipeRequest(id, method, params, incarnation)
        case .request(let id, "session.push", let params):
            link.send(answer(id) { context throws(CallError) in try push(params, in: context) })
        case .request(let id, "session.join_room", let params):
            link.send(answer(id) { context throws(CallError) in try join(params, in: context) })
        case .request(let id, "session.leave_room", let params):
            link.send(answer(id) { context throws(CallError) in try leave(params, in: context) })
        case .notification("worker.end", let params):
            if let problem = workerEnded(params) { violation(problem, incarnation) }
        case .notification("event.emit", let params):
            emit(params, incarnation)
        case .notification("source.end", let params):
            guard let channel = params["source"]?.stringValue else { return violation("source.end without a source", incarnation) }
            let run = state.withLock { $0.sources[channel] }
            let error = params["error"]?.stringValue.map { CallError(Errno.EFAULT, "event source of plugin \(name) failed: \($0)") }
            run?.ended.resolve(error)
        case .notification("job.progress", let params):
            guard let job = job(params, incarnation) else { return }
            job.reportProgress(params["percent"]?.intValue.map { Int($0) }, params["description"]?.stringValue, extra: params["extra"] ?? .null)
        case .notification("job.log", let params):
            guard let job = job(params, incarnation) else { return }
            job.appendLog(params["line"]?.stringValue ?? "")
        case .notification("log", let params):
            let level = params["level"]?.stringValue.flatMap(Logger.Level.init(rawValue:)) ?? .info
            logger.log(level: level, "\(params["message"]?.stringValue ?? "")", metadata: ["stream": "protocol"])
        case .request(_, let method, _), .notification(let method, _):
            violation("unknown message \(method)", incarnation)
        case .result, .error:
            break  // the link matches responses itself
        }
    }

    private func violation(_ reason: String, _ incarnation: PluginIncarnation) {
        if incarnation.killReason.withLock({ $0 != nil }) { return }
        logger.error("plugin killed: protocol violation", metadata: ["reason": .string(reason)])
        incarnation.stepsContinuation.yield(.ended("it broke the protocol: \(reason)"))
        incarnation.kill("plugin \(name) broke the protocol: \(reason)")
    }

    private func answer(_ id: JSON, _ body: (PluginContext) throws(CallError) -> JSON) -> PluginMessage {
        guard let context = state.withLock({ $0.context }) else {
            return .error(id: id, CallError(Errno.EAGAIN, "plugin \(name) is not set up"))
        }
        do {
            return .result(id: id, try body(context))
        } catch {
            return .error(id: id, error)
        }
    }

    private func emit(_ params: JSON, _ incarnation: PluginIncarnation) {
        guard let name = params["name"]?.stringValue, !name.isEmpty else { return violation("event.emit without a name", incarnation) }
        let kind = params["kind"]?.stringValue.flatMap(EventKind.init(rawValue:)) ?? .changed
        let id = params["id"] ?? .null
        let fields = params["fields"] ?? .null
        if let channel = params["source"]?.stringValue {
            // A source's event goes out on its channel (subscribers of that argument); a stopped one's is dropped.
            state.withLock { $0.sources[channel] }?.emit(kind, id, fields)
            return
        }
        state.withLock { $0.context }?.emit(name) { Event(name: name, kind: kind, id: id, fields: fields) }
    }

    private func job(_ params: JSON, _ incarnation: PluginIncarnation) -> JobContext? {
        // Only a job of this plugin's that still runs; a late report of a finished one is dropped.
        guard let id = params["job"]?.intValue else {
            violation("a job report without a job id", incarnation)
            return nil
        }
        return state.withLock { $0.jobs[id] }
    }

    /// Counts one more request that waits in a task of its own (`daemon.call`, a pipe's piece); false, with the
    /// plugin killed, past `maxPendingRequests`. The task gives it back with `callbacks -= 1`.
    func admitRequest(_ kind: String, _ incarnation: PluginIncarnation) -> Bool {
        let admitted = state.withLock { state -> Bool in
            guard state.callbacks < settings.maxPendingRequests else { return false }
            state.callbacks += 1
            return true
        }
        if !admitted { violation("more than \(settings.maxPendingRequests) \(kind) requests waiting at once (a flood)", incarnation) }
        return admitted
    }

    /// `daemon.call`: as the caller whose token it names (never more than that caller may), or as the daemon.
    private func callBack(_ id: JSON, _ params: JSON, _ incarnation: PluginIncarnation) {
        guard admitRequest("daemon.call", incarnation) else { return }
        let link = incarnation.link
        Task {
            defer { state.withLock { $0.callbacks -= 1 } }
            guard let method = params["method"]?.stringValue else {
                link.send(.error(id: id, CallError.validation("daemon.call.method", "must be a method name")))
                return
            }
            let arguments = params["params"]?.arrayValue ?? []
            let (context, caller) = state.withLock { state in
                (state.context, params["call"]?.stringValue.map { state.callers[$0] })
            }
            do {
                let result: JSON
                switch caller {
                case .some(.some(let call)): result = try await call.call(method, arguments)
                case .some(.none):
                    throw CallError(Errno.EPERM, "daemon.call names a call that is not in flight; a caller's rights end with its call")
                case .none:
                    guard let context else { throw CallError(Errno.EAGAIN, "plugin \(name) is not set up") }
                    result = try await context.call(method, arguments)
                }
                link.send(.result(id: id, result))
            } catch let error as CallError {
                link.send(.error(id: id, error))
            } catch {
                link.send(.error(id: id, CallError(Errno.EFAULT, "\(error)")))
            }
        }
    }
}
