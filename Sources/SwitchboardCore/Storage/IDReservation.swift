import Synchronization

/// Ids of one of the daemon's sequences (jobs, audit records), reserved from the datastore a block at a time, so
/// that the nodes sharing a datastore never hand out the same id and the datastore is asked once per block, not
/// once per id.
///
/// Invariant: every id handed out lies in a block the datastore reserved for this node, and is handed out once.
/// Ids rise within a node; across nodes they interleave by block. A block's unused rest is lost at stop (a gap,
/// never a reuse). One refill runs at a time; takers that find the block empty wait for it.
public final class IDReservation: Sendable {
    struct State {
        var next: Int64 = 1
        var last: Int64 = 0
        /// The highest id handed out, or the floor before the first.
        var highest: Int64 = 0
        var refill: Task<ClosedRange<Int64>, any Error>?
    }

    let datastore: any Datastore
    let sequence: String
    let blockSize: Int64
    private let state = Mutex(State())

    public init(datastore: any Datastore, sequence: String, blockSize: Int64) {
        self.datastore = datastore
        self.sequence = sequence
        self.blockSize = max(1, blockSize)
    }

    /// Sets where ids start: above `floor` (the highest id stored, from before reservations existed). Call once,
    /// before the first `take`.
    public func start(above floor: Int64) {
        state.withLock { state in
            state.next = floor + 1
            state.last = floor
            state.highest = floor
        }
    }

    /// The highest id handed out so far (the floor before any).
    public var highest: Int64 { state.withLock { $0.highest } }

    /// One id.
    public func take() async throws -> Int64 {
        try await take(1).lowerBound
    }

    /// `count` consecutive ids.
    public func take(_ count: Int64) async throws -> ClosedRange<Int64> {
        let count = max(1, count)
        while true {
            enum Step { case taken(ClosedRange<Int64>), wait(Task<ClosedRange<Int64>, any Error>) }
            let step = state.withLock { state -> Step in
                if state.last - state.next + 1 >= count {
                    let range = state.next...(state.next + count - 1)
                    state.next += count
                    state.highest = max(state.highest, range.upperBound)
                    return .taken(range)
                }
                if let refill = state.refill { return .wait(refill) }
                let datastore = datastore, sequence = sequence, size = max(blockSize, count), floor = state.highest
                let refill = Task { try await datastore.reserveIDs(sequence, count: size, above: floor) }
                state.refill = refill
                return .wait(refill)
            }
            switch step {
            case .taken(let range):
                return range
            case .wait(let refill):
                let block: ClosedRange<Int64>
                do {
                    block = try await refill.value
                } catch {
                    state.withLock { if $0.refill == refill { $0.refill = nil } }
                    throw error
                }
                state.withLock { state in
                    guard state.refill == refill else { return }
                    state.refill = nil
                    // The rest of the old block is smaller than what was asked: given up for the new one.
                    state.next = block.lowerBound
                    state.last = block.upperBound
                }
            }
        }
    }

    /// Gives back the id just taken when it was not used (the call that took it was refused), so a refused
    /// submission leaves no gap. Only the latest id can be given back; any other stays a gap.
    public func giveBack(_ id: Int64) {
        state.withLock { state in
            if state.next - 1 == id, state.highest == id {
                state.next = id
                state.highest = id - 1
            }
        }
    }
}
