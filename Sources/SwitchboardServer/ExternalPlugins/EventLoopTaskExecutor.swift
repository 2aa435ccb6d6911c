import NIOCore

/// Runs tasks on one NIO event loop. A call forwarded to an external plugin prefers the loop that serves the
/// plugin's socket (`MethodDescriptor.executor`): it sends its request, waits and resumes on that one thread,
/// where it would otherwise hop from Swift's pool to the loop to write and back from the loop when the answer
/// arrives, a futex wake and a context switch each way.
///
/// Whatever runs here must not block: it shares the thread with the loop's sockets.
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
