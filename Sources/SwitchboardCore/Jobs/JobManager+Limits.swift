extension JobManager {
    /// How many jobs run, how long finished ones are kept, and how a stop treats running ones (the `jobs` section).
    public struct Limits: Sendable, Equatable {
        /// Jobs running at once across the daemon; more wait.
        public var maxRunning: Int
        /// Finished jobs kept: at most this many...
        public var retentionCount: Int
        /// Unfinished (WAITING or RUNNING) jobs one user may have at once; FULL_ADMIN and the daemon itself are
        /// not limited. Beyond it a submission is refused with EBUSY.
        public var maxPerUser = 100
        /// ...and none older than this.
        public var retentionAge: Duration
        /// How long a stopping daemon lets running jobs finish before it aborts them.
        public var shutdownGrace: Duration
        /// At most one progress event per job within this interval (`ProgressPacer`); zero sends every report.
        public var progressInterval: Duration

        public init(maxRunning: Int = 32, retentionCount: Int = 1_000, retentionAge: Duration = .seconds(7 * 86_400),
                    shutdownGrace: Duration = .seconds(10), progressInterval: Duration = .milliseconds(100)) {
            self.maxRunning = maxRunning
            self.retentionCount = retentionCount
            self.retentionAge = retentionAge
            self.shutdownGrace = shutdownGrace
            self.progressInterval = progressInterval
        }
    }
}
