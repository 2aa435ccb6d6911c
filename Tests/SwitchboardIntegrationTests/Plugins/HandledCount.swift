import Synchronization

/// How often the kinds plugin's event handler ran.
final class HandledCount: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
