import Synchronization

/// Runs event sources for their subscribers: one producer per source and argument (a *channel*), started by
/// the first subscription, cancelled when the last one goes, restarted with exponential backoff when it fails.
///
/// It only decides when producers run. Their events go through `EventBus.publish` like every other event, so
/// `*` and `prefix.*` subscribers and server-side handlers see them, roles apply, and there is one fan-out;
/// the bus keeps the subscriptions and tells their sessions when a stream ends.
final class EventSourceSupervisor: Sendable {
    struct Instance {
        let source: EventSourceDescriptor
        let argument: JSON
        var subscribers: Set<String> = []
        var task: Task<Void, Never>?
        var startedAt: Int64? = Session.wallClockMillis
        var restarts = 0
        var lastError: String?
        /// Waiting out its backoff after a failure.
        var failing = false
    }


    struct State {
        var sources: [String: EventSourceDescriptor] = [:]
        /// The plugin that registered each source, for `worker.query`.
        var owners: [String: String] = [:]
        /// Running producers by channel (`name:` + canonical argument).
        var instances: [String: Instance] = [:]
        /// Subscription id to channel.
        var channels: [String: String] = [:]
    }

    private let state = Mutex(State())
    /// 100 ms, 200 ms, 400 ms, ... up to 10 s between restarts: the restart policy's backoff, without jitter
    /// (a source's producers restart on their own schedules) and with `maxRestarts` in place of quarantine.
    static let backoff = RestartPolicy(initialDelay: .milliseconds(100), maxDelay: .seconds(10), jitter: 0)

    func register(_ source: EventSourceDescriptor, plugin: String) {
        state.withLock { state in
            state.sources[source.name] = source
            state.owners[source.name] = plugin
        }
    }

    /// Forgets a source and stops its producers; returns the ids of the subscriptions it had.
    func unregister(_ name: String) -> [String] {
        let (ids, tasks) = state.withLock { state -> ([String], [Task<Void, Never>]) in
            state.sources.removeValue(forKey: name)
            state.owners.removeValue(forKey: name)
            var ids: [String] = []
            var tasks: [Task<Void, Never>] = []
            for (channel, instance) in state.instances where instance.source.name == name {
                state.instances.removeValue(forKey: channel)
                ids += instance.subscribers
                if let task = instance.task { tasks.append(task) }
            }
            for id in ids { state.channels.removeValue(forKey: id) }
            return (ids, tasks)
        }
        for task in tasks { task.cancel() }
        return ids
    }

    func source(_ name: String) -> EventSourceDescriptor? {
        state.withLock { $0.sources[name] }
    }

    static func channel(_ source: EventSourceDescriptor, _ argument: JSON) -> String {
        source.name + ":" + argument.encodedString()
    }

    /// Adds a subscriber to `channel`, starting its producer if it is the first.
    func subscribe(id: String, channel: String, source: EventSourceDescriptor, argument: JSON, bus: EventBus) {
        state.withLock { state in
            var instance = state.instances[channel] ?? Instance(source: source, argument: argument)
            instance.subscribers.insert(id)
            if instance.task == nil {
                instance.task = Task { await self.supervise(channel: channel, source: source, argument: argument, bus: bus) }
            }
            state.instances[channel] = instance
            state.channels[id] = channel
        }
    }

    /// Removes a subscriber; the last one out stops the producer.
    func unsubscribe(id: String) {
        let task: Task<Void, Never>? = state.withLock { state in
            guard let channel = state.channels.removeValue(forKey: id) else { return nil }
            state.instances[channel]?.subscribers.remove(id)
            guard state.instances[channel]?.subscribers.isEmpty == true else { return nil }
            return state.instances.removeValue(forKey: channel)?.task
        }
        task?.cancel()
    }

    var runningCount: Int { state.withLock { $0.instances.values.filter { $0.task != nil }.count } }

    /// Each source as `worker.query` lists it: a row per producer running (named `name` without an argument,
    /// `name:{json}` with one), or one `available` row for a source nobody subscribes to.
    var statuses: [WorkerStatus] {
        state.withLock { state in
            var rows: [WorkerStatus] = []
            for (name, source) in state.sources {
                let plugin = state.owners[name] ?? ""
                let running = state.instances.values.filter { $0.source.name == name }
                if running.isEmpty {
                    rows.append(WorkerStatus(name: name, plugin: plugin, description: source.description, state: .available, restarts: 0,
                                             lastError: nil, startedAt: nil, kind: .eventSource))
                }
                for instance in running {
                    let label = instance.argument.isNull ? name : name + ":" + instance.argument.encodedString()
                    rows.append(WorkerStatus(name: label, plugin: plugin, description: source.description,
                                             state: instance.failing ? .failed : .running, restarts: instance.restarts,
                                             lastError: instance.lastError, startedAt: instance.failing ? nil : instance.startedAt,
                                             kind: .eventSource))
                }
            }
            return rows
        }
    }

    /// Records what a producer is doing, while its channel still runs.
    private func note(_ channel: String, _ update: (inout Instance) -> Void) {
        state.withLock { state in
            guard var instance = state.instances[channel] else { return }
            update(&instance)
            state.instances[channel] = instance
        }
    }

    private func supervise(channel: String, source: EventSourceDescriptor, argument: JSON, bus: EventBus) async {
        var failures = 0
        var lastError: CallError?
        let emit: EventSourceDescriptor.Emit = { kind, id, fields in
            bus.publish(Event(name: source.name, kind: kind, id: id, fields: fields), channel: channel)
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
                let reason = lastError?.reason
                note(channel) { instance in
                    instance.failing = true
                    instance.restarts += 1
                    instance.lastError = reason
                }
                do { try await Task.sleep(for: Self.backoff.delay(attempt: failures, random: 0)) } catch { return }
                note(channel) { instance in
                    instance.failing = false
                    instance.startedAt = Session.wallClockMillis
                }
            }
        }
        if Task.isCancelled { return }
        // The stream ended for good: the bus ends its subscriptions and tells their sessions.
        let ended = state.withLock { state -> Set<String> in
            guard let instance = state.instances.removeValue(forKey: channel) else { return [] }
            for id in instance.subscribers { state.channels.removeValue(forKey: id) }
            return instance.subscribers
        }
        bus.end(Array(ended), name: source.name, error: lastError)
    }
}
