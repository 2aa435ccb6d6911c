import Synchronization

/// Where a method that can answer in fragments leaves its `QueryStream`, for a call whose client takes
/// fragments (the envelope dialect with FreeNAS 10's `streaming_responses`). Made by the dialect for one call and
/// read once the call returns: a method that offers a stream returns `null` beside it; one that does not answers
/// as always, and the dialect sends that answer whole.
public final class FragmentedAnswer: Sendable {
    private let offered = Mutex<QueryStream?>(nil)

    public init() {}

    public func offer(_ stream: QueryStream) { offered.withLock { $0 = stream } }

    public var stream: QueryStream? { offered.withLock { $0 } }
}
