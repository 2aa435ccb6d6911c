/// A job's life: WAITING -> RUNNING -> SUCCESS | FAILED | ABORTED; WAITING may end ABORTED or FAILED directly.
public enum JobState: String, Sendable, CaseIterable {
    case waiting = "WAITING"
    case running = "RUNNING"
    case success = "SUCCESS"
    case failed = "FAILED"
    case aborted = "ABORTED"

    public var isFinished: Bool {
        switch self {
        case .success, .failed, .aborted: return true
        case .waiting, .running: return false
        }
    }
}
