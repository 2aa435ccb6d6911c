import Testing
@testable import SwitchboardCore

@Suite struct CallLimiterTests {
    @Test func admitsQueuesAndRefuses() async throws {
        let limiter = CallLimiter(limits: .init(maxRunning: 2, maxQueued: 1))
        try await limiter.acquire()
        try await limiter.acquire()
        #expect(limiter.running == 2)
        let waiter = Task { try await limiter.acquire() }
        while limiter.queued == 0 { await Task.yield() }
        await #expect(throws: CallError.tooManyConcurrentCalls) { try await limiter.acquire() }
        limiter.release()
        try await waiter.value
        #expect(limiter.running == 2)
        #expect(limiter.queued == 0)
        limiter.release()
        limiter.release()
        #expect(limiter.running == 0)
    }

    @Test func closeReleasesWaiters() async throws {
        let limiter = CallLimiter(limits: .init(maxRunning: 1, maxQueued: 5))
        try await limiter.acquire()
        let waiter = Task { try await limiter.acquire() }
        while limiter.queued == 0 { await Task.yield() }
        limiter.close()
        await #expect(throws: CallError.self) { try await waiter.value }
        await #expect(throws: CallError.self) { try await limiter.acquire() }
    }
}
