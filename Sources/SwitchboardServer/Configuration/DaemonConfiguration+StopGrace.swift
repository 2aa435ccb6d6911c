import SwitchboardCore

/// `dispatcher.stop-grace`: the name the operator's side of the seeds gives to what a stop lets jobs run for,
/// the same value as `jobs.shutdown-grace-seconds` (kept beside the other job settings). Either key sets it;
/// both with different values is a mistake the daemon names rather than guesses at.
extension DaemonConfiguration {
    mutating func applyStopGrace(_ root: JSONObject) throws {
        guard case .object(let dispatcher)? = root["dispatcher"], let value = dispatcher["stop-grace"] else { return }
        let seconds = try Self.integer(value, "dispatcher.stop-grace", 0...3_600)
        if case .object(let jobs)? = root["jobs"], let other = jobs["shutdown-grace-seconds"], other != value {
            throw ConfigurationError(path: "dispatcher.stop-grace",
                                     reason: "is \(seconds) but jobs.shutdown-grace-seconds is \(other): they are one setting, give one of them")
        }
        self.jobs.shutdownGrace = .seconds(seconds)
    }
}
