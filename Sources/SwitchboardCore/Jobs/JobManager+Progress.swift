import Synchronization

/// A job's progress and log, reported by its body through `JobContext`.
extension JobManager {
    /// Records a job's progress; subscribers hear of it through the job's `ProgressPacer`.
    func setProgress(_ id: Int64, percent: Int64?, description: String?, extra: JSON) {
        let interval = limits.progressInterval
        let changed = state.withLock { state -> (record: JobRecord, pacer: ProgressPacer, version: UInt64)? in
            // After an abort is accepted the job is being torn down: what its body reports then (a killed command
            // "completing" its last step) is not progress, and an aborted job keeps the progress it had reached.
            guard let index = state.live.index(forKey: id), state.live.values[index].record.state == .running,
                  !state.live.values[index].abortRequested else { return nil }
            let record = state.live.values[index].record
            guard record.percent != percent || record.progressDescription != description || record.progressExtra != extra else { return nil }
            state.live.values[index].record.percent = percent
            state.live.values[index].record.progressDescription = description
            state.live.values[index].record.progressExtra = extra
            state.live.values[index].progressVersion += 1
            let pacer = state.live.values[index].pacer ?? ProgressPacer(interval: interval)
            state.live.values[index].pacer = pacer
            return (state.live.values[index].record, pacer, state.live.values[index].progressVersion)
        }
        guard let changed else { return }
        let pacer = changed.pacer
        guard var due = pacer.report(changed.record, version: changed.version, publish: { announceProgress($0) }) else { return }
        Task {
            while true {
                try? await Task.sleep(until: due, clock: .continuous)
                guard let later = pacer.flush(publish: { announceProgress($0) }) else { return }
                due = later
            }
        }
    }

    func appendLog(_ id: Int64, _ bytes: [UInt8]) {
        enum Found { case none, log(JobLog), missing }
        let found = state.withLock { state -> Found in
            guard let job = state.live[id], !job.record.state.isFinished else { return .none }
            return job.log.map(Found.log) ?? .missing
        }
        switch found {
        case .none:
            return
        case .log(let log):
            log.write(bytes)
        case .missing:
            // The first line opens the file (outside the lock); a concurrent first line may have won the race.
            let opened = JobLog(directory: logDirectory, id: id)
            let log = state.withLock { state -> JobLog? in
                guard let job = state.live[id], !job.record.state.isFinished else { return nil }
                if let log = job.log { return log }
                state.live[id]?.log = opened
                state.live[id]?.record.logsPath = opened.path
                return opened
            }
            if log !== opened { opened.close() }
            log?.write(bytes)
        }
    }
}
