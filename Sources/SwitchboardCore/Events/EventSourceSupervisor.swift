import Logging
import Synchronization

/// Runs event sources for their subscribers: one producer per source and argument, started by the first
/// subscription, cancelled when the last one goes, restarted with exponential backoff when it fails.
final class EventSourceSupervisor: Sendable {
    struct Instance {
        let source: EventSourceDescriptor
        let argument: JSON
        var subscribers: [String: Session] = [:]
        var task: Task<Void, Never>?
    }

    struct State {
        var sources: [String: EventSourceDescriptor] = [:]
        /// Running producers by `name` + canonical argument.
        var instances: [String: Instance] = [:]
        /// Subscription id to instance key.
        var keys: [String: String] = [:]
    }

    private let state = Mutex(State())

    func register(_ source: EventSourceDescriptor) {
        state.withLock { $0.sources[source.name] = source }
    }

    func source(_ name: String) -> EventSourceDescriptor? {
        state.withLock { $0.sources[name] }
    }

    /// Adds a subscriber, starting the producer if it is the first.
    func subscribe(id: String, session: Session, source: EventSourceDescriptor, argument: JSON) {
        let key = source.name + ":" + argument.encodedString()
        state.withLock { state in
            var instance = state.instances[key] ?? Instance(source: source, argument: argument)
            instance.subscribers[id] = session
            if instance.task == nil {
                instance.task = Task { await self.supervise(key: key, source: source, argument: argument) }
            }
            state.instances[key] = instance
            state.keys[id] = key
        }
    }

    /// Removes a subscriber; the last one out stops the producer. False when `id` is not a source subscription.
    func unsubscribe(id: String, session: Session) -> Bool {
        let task: Task<Void, Never>?? = state.withLock { state in
            guard let key = state.keys[id], let instance = state.instances[key], instance.subscribers[id] === session else { return nil }
            state.keys.removeValue(forKey: id)
            state.instances[key]?.subscribers.removeValue(forKey: id)
            if state.instances[key]?.subscribers.isEmpty == true {
                let task = state.instances.removeValue(forKey: key)?.task
                return .some(task)
            }
            return .some(nil)
        }
        guard let task else { return false }
        task?.cancel()
        return true
    }

    func unsubscribeAll(session: Session) {
        let ids = state.withLock { state in
            state.keys.keys.filter { state.instances[state.keys[$0] ?? ""]?.subscribers[$0] === session }
        }
        for id in ids { _ = unsubscribe(id: id, session: session) }
    }

    var runningCount: Int { state.withLock { $0.instances.values.filter { $0.task != nil }.count } }

    private func subscribers(_ key: String) -> [Session] {
        state.withLock { Array(($0.instances[key]?.subscribers ?? [:]).values) }
    }

    private func supervise(key: String, source: EventSourceDescriptor, argument: JSON) async {
        var failures = 0
        var lastError: CallError?
        let emit: EventSourceDescriptor.Emit = { kind, id, fields in
            let event = Event(name: source.name, kind: kind, id: id, fields: fields)
            let frames = EncodedFrames()
            for session in self.subscribers(key) where session.isAuthenticated {
                session.outbox?.deliver(event, frames: frames)
            }
            frames.wakes.flush()
        }
        while !Task.isCancelled {
            do {
                try await source.producer(argument, emit)
                lastError = nil
                break
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                failures += 1
                lastError = error as? CallError ?? CallError(Errno.EFAULT, "event source \(source.name) failed: \(error)")
                if failures > source.maxRestarts { break }
                // 100 ms, 200 ms, 400 ms, ... up to 10 s between restarts.
                let delay = min(10_000, 100 << min(failures - 1, 10))
                do { try await Task.sleep(for: .milliseconds(delay)) } catch { return }
            }
        }
        if Task.isCancelled { return }
        // The stream ended for good: tell every subscriber and forget them.
        let ended = state.withLock { state -> [String: Session] in
            guard let instance = state.instances.removeValue(forKey: key) else { return [:] }
            for id in instance.subscribers.keys { state.keys.removeValue(forKey: id) }
            return instance.subscribers
        }
        var told = Set<ObjectIdentifier>()
        for session in ended.values where told.insert(ObjectIdentifier(session)).inserted {
            session.outbox?.unsubscribed(name: source.name, error: lastError)
        }
    }
}
