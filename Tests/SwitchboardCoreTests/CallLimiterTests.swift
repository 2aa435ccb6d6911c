import Logging
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

@Suite struct ClientGuardTests {
    @Test func aFloodOfAddressesStaysWithinTheTrackedBound() throws {
        var limits = ClientGuard.Limits()
        limits.maxTracked = 100
        let guardian = ClientGuard(limits: limits, logger: Logger(label: "test"))
        for n in 0..<5_000 {
            try guardian.admitUnauthenticated(method: "core.ping", origin: .tcp(address: "10.0.\(n / 256).\(n % 256)", port: 1))
        }
        #expect(guardian.tracked <= 100)
    }

    @Test func theLimitCountsPerMethodAndAddressAndTheLocalSocketIsExempt() throws {
        var limits = ClientGuard.Limits()
        limits.unauthenticatedCalls = 2
        let guardian = ClientGuard(limits: limits, logger: Logger(label: "test"))
        let a = SessionOrigin.tcp(address: "192.0.2.1", port: 1000)
        try guardian.admitUnauthenticated(method: "m", origin: a)
        try guardian.admitUnauthenticated(method: "m", origin: .tcp(address: "192.0.2.1", port: 2000))
        #expect(throws: CallError.self) { try guardian.admitUnauthenticated(method: "m", origin: a) }
        try guardian.admitUnauthenticated(method: "other", origin: a)
        try guardian.admitUnauthenticated(method: "m", origin: .tcp(address: "192.0.2.2", port: 1))
        for _ in 0..<10 { try guardian.admitUnauthenticated(method: "m", origin: .unix(uid: 1000, gid: 1000, pid: 1)) }
    }

    @Test func lockoutAfterTheLimitAndClearedBySuccess() async throws {
        var limits = ClientGuard.Limits()
        limits.loginFailures = 2
        limits.loginFailureDelay = .zero
        let guardian = ClientGuard(limits: limits, logger: Logger(label: "test"))
        let a = SessionOrigin.tcp(address: "192.0.2.1", port: 1)
        await guardian.loginFailed(a, username: "x")
        try guardian.checkLockout(a)
        guardian.loginSucceeded(a)
        await guardian.loginFailed(a, username: "x")
        try guardian.checkLockout(a)
        await guardian.loginFailed(a, username: "x")
        #expect(throws: CallError.self) { try guardian.checkLockout(a) }
        try guardian.checkLockout(.tcp(address: "192.0.2.9", port: 1))
    }
}
