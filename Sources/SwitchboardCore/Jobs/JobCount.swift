/// How many of this node's unfinished jobs of one method are in one state (`JobManager.liveCountsByMethod`).
public struct JobCount: Sendable, Equatable {
    struct Key: Hashable {
        let method: String
        let state: String
    }

    public let method: String
    public let state: String
    public let count: Int
}
