/// What this node's jobs are doing now, for the daemon's status.
extension JobManager {
    /// This node's unfinished jobs by state (`WAITING`, `RUNNING`), and `finished`: the finished jobs the node
    /// keeps (its retention's share).
    public var stateCounts: [String: Int] {
        state.withLock { state in
            var counts = ["WAITING": 0, "RUNNING": 0, "finished": state.finished.count]
            for job in state.live.values where !job.record.state.isFinished { counts[job.record.state.rawValue, default: 0] += 1 }
            return counts
        }
    }

    /// This node's waiting and running jobs counted by method and state, for `/metrics`.
    public var liveCountsByMethod: [JobCount] {
        state.withLock { state in
            var counts: [JobCount.Key: Int] = [:]
            for job in state.live.values where !job.record.state.isFinished {
                counts[JobCount.Key(method: job.record.method, state: job.record.state.rawValue), default: 0] += 1
            }
            return counts.map { JobCount(method: $0.key.method, state: $0.key.state, count: $0.value) }
        }
    }
}
