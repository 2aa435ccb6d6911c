/// The metrics the daemon exports, by name, with their help text: one table, read by the code that records
/// them and by the factory that gives Prometheus their `# HELP` lines, so the two cannot disagree.
public enum MetricName {
    public static let calls = "switchboard_calls_total"
    public static let callDuration = "switchboard_call_duration_seconds"
    public static let connections = "switchboard_connections"
    public static let sessions = "switchboard_sessions"
    public static let jobs = "switchboard_jobs"
    public static let jobsFinished = "switchboard_jobs_finished_total"
    public static let eventsPublished = "switchboard_events_published_total"
    public static let eventsDelivered = "switchboard_events_delivered_total"
    public static let slowConsumersClosed = "switchboard_slow_consumers_closed_total"
    public static let outboundDropped = "switchboard_outbound_dropped_total"
    public static let workers = "switchboard_workers"
    public static let workerRestarts = "switchboard_worker_restarts"
    public static let plugins = "switchboard_plugins"
    public static let datastoreDuration = "switchboard_datastore_duration_seconds"
    public static let residentMemory = "process_resident_memory_bytes"
    public static let openFiles = "process_open_fds"
    public static let maxFiles = "process_max_fds"
    public static let uptime = "switchboard_uptime_seconds"

    public static let help: [String: String] = [
        calls: "Calls finished, by method, dialect and result (ok, or the kind of error).",
        callDuration: "Call latency from the moment the call asked for a slot (queueing included) to its reply, by method.",
        connections: "Open client connections, by dialect.",
        sessions: "Client sessions, by whether they are authenticated.",
        jobs: "Jobs on this node waiting or running, by method and state.",
        jobsFinished: "Jobs that ended on this node, by method and final state.",
        eventsPublished: "Events published, whether or not anyone received them.",
        eventsDelivered: "Event deliveries: one per session an event was queued for.",
        slowConsumersClosed: "Connections closed because their outbound queue overflowed (1008, client too slow).",
        outboundDropped: "Outbound frames dropped: those an overflowing queue held, and those offered after a queue ended.",
        workers: "Supervised workers (plugins' processes and event sources included), by state.",
        workerRestarts: "Restarts of each worker since its plugin last loaded (resets when the plugin reloads).",
        plugins: "Plugins, by state.",
        datastoreDuration: "Datastore operation latency, by operation.",
        residentMemory: "Resident memory of the daemon process.",
        openFiles: "Open file descriptors of the daemon process.",
        maxFiles: "The daemon process's limit on open file descriptors.",
        uptime: "Seconds since the daemon started.",
    ]
}
