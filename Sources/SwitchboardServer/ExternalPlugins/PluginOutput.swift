import SwitchboardCore
import DequeModule
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A plugin's stdout and stderr: each line goes to the daemon log tagged with the plugin and stream, and the
/// last `keep` lines are kept for the record of a crash. Lines over 8 KiB are cut, never buffered whole.
final class PluginOutput: Sendable {
    static let maxLine = 8 * 1024
    /// How long a crash's record waits for the last output: a process that ended closes its streams at once
    /// (a loaded machine may take a moment to read them); only a child it left running holds them longer.
    static let drainWait = Duration.seconds(3)
    private let lines = Mutex(Deque<String>())
    private let keep: Int
    private let open = Mutex(0)
    /// Set when every stream read has reached its end (the process and anything it started have closed them).
    let drained = OneShot<Bool>()

    init(keep: Int = 20) {
        self.keep = keep
    }

    /// Starts reading `descriptor` (taking ownership of it) as `stream` ("stdout" or "stderr").
    func read(_ descriptor: CInt, stream: String, logger: Logger) async throws {
        open.withLock { $0 += 1 }
        let closed: @Sendable () -> Void = { [weak self] in
            guard let self else { return }
            if self.open.withLock({ count -> Bool in count -= 1; return count == 0 }) { self.drained.resolve(true) }
        }
        let keep = self.keep
        let onLine: @Sendable (UnsafeRawBufferPointer) -> Void = { [weak self] bytes in
            let line = String(decoding: bytes, as: UTF8.self)
            logger.info("\(line)", metadata: ["stream": .string(stream)])
            self?.lines.withLock { lines in
                lines.append(line)
                if lines.count > keep { lines.removeFirst() }
            }
        }
        _ = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        PluginLineHandler(maxLine: Self.maxLine, truncating: true, onLine: onLine, onClose: closed))
                }
            }
            .withConnectedSocket(descriptor)
            .get()
    }

    /// The last lines printed, once the streams are drained or `wait` has passed (a child it left running may
    /// hold them open), oldest first.
    func settled(within wait: Duration) async -> [String] {
        _ = await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = await self.drained.wait() }
            group.addTask { try? await Task.sleep(for: wait) }
            await group.next()
            group.cancelAll()
        }
        return last
    }

    /// The last lines printed, oldest first.
    var last: [String] { lines.withLock { Array($0) } }
}
