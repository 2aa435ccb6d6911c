import Logging
import Testing
@testable import SwitchboardCore

@Suite struct CallLimiterTests {
    @Test func admitsQueuesAndRefuses() async throws {
        let limiter = CallLimiter(limits: .init(maxRunning: 2, maxQueued: 1))
        let first = try await limiter.acquire("a.one")
        let second = try await limiter.acquire("a.two")
        #expect(limiter.running == 2)
        let waiter = Task { try await limiter.acquire("a.three") }
        while limiter.queued == 0 { await Task.yield() }
        await #expect(throws: CallError.tooManyConcurrentCalls) { try await limiter.acquire("a.four") }
        #expect(limiter.calls.running.map(\.method) == ["a.one", "a.two"])
        #expect(limiter.calls.queued.map(\.method) == ["a.three"])
        limiter.release(first)
        let third = try await waiter.value
        #expect(limiter.running == 2)
        #expect(limiter.queued == 0)
        // The waiter took the slot the first call gave back, under its own name.
        #expect(limiter.calls.running.map(\.method) == ["a.two", "a.three"])
        limiter.release(second)
        #expect(limiter.calls.running.map(\.method) == ["a.three"])
        limiter.release(third)
        #expect(limiter.running == 0)
        #expect(limiter.calls.running.isEmpty && limiter.calls.queued.isEmpty)
    }

    /// A slot released twice, or one that never was handed out, frees nothing it does not hold.
    @Test func aStaleSlotFreesNothing() async throws {
        let limiter = CallLimiter(limits: .init(maxRunning: 2, maxQueued: 0))
        let first = try await limiter.acquire("a.one")
        _ = try await limiter.acquire("a.two")
        limiter.release(first)
        limiter.release(first)
        #expect(limiter.calls.running.map(\.method) == ["a.two"])
    }

    @Test func closeReleasesWaiters() async throws {
        let limiter = CallLimiter(limits: .init(maxRunning: 1, maxQueued: 5))
        _ = try await limiter.acquire("a.one")
        let waiter = Task { try await limiter.acquire("a.two") }
        while limiter.queued == 0 { await Task.yield() }
        limiter.close()
        await #expect(throws: CallError.self) { try await waiter.value }
        await #expect(throws: CallError.self) { try await limiter.acquire("a.three") }
        #expect(limiter.calls.queued.isEmpty)
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

    static func guardian(failures: Int = 2, perUser: Int = 20) -> ClientGuard {
        var limits = ClientGuard.Limits()
        limits.loginFailures = failures
        limits.loginFailuresPerUser = perUser
        limits.loginFailureDelay = .zero
        return ClientGuard(limits: limits, logger: Logger(label: "test"))
    }

    static func fail(_ guardian: ClientGuard, _ origin: SessionOrigin, _ username: String?) async throws {
        await guardian.endLogin(try await guardian.beginLogin(origin, username: username), succeeded: false)
    }

    static func succeed(_ guardian: ClientGuard, _ origin: SessionOrigin, _ username: String?) async throws {
        await guardian.endLogin(try await guardian.beginLogin(origin, username: username), succeeded: true)
    }

    /// Issue 15, defect 4: a success of one account no longer clears the failures of the address.
    @Test func aSuccessClearsNothingButItsOwnCount() async throws {
        let guardian = Self.guardian(failures: 2)
        let a = SessionOrigin.tcp(address: "192.0.2.1", port: 1)
        try await Self.fail(guardian, a, "root")
        try await Self.succeed(guardian, a, "mallory")
        try await Self.fail(guardian, a, "root")
        let refused = await #expect(throws: CallError.self) { _ = try await guardian.beginLogin(a, username: "mallory") }
        #expect(refused?.errno == Errno.EACCES && refused?.reason.hasPrefix("Too many failed logins from 192.0.2.1: refused for 3") == true)
        // Another address is not affected; the local socket never is.
        try await Self.succeed(guardian, .tcp(address: "192.0.2.9", port: 1), "mallory")
        try await Self.succeed(guardian, .unix(uid: 0, gid: 0, pid: 1), "root")
        #expect(guardian.lockouts.contains { $0.address == "192.0.2.1" && $0.failures == 2 && ($0.lockedSeconds ?? 0) > 3_000 })
        #expect(guardian.lockouts.contains { $0.username == "root" && $0.failures == 2 && $0.lockedSeconds == nil })
        #expect(guardian.clearLockout("192.0.2.1"))
        try await Self.succeed(guardian, a, "mallory")
    }

    /// Guesses spread over many addresses lock the account they target, over TCP only.
    @Test func guessesFromManyAddressesLockTheAccount() async throws {
        let guardian = Self.guardian(failures: 100, perUser: 3)
        for host in 1...3 { try await Self.fail(guardian, .tcp(address: "198.51.100.\(host)", port: 1), "root") }
        let refused = await #expect(throws: CallError.self) {
            _ = try await guardian.beginLogin(.tcp(address: "198.51.100.77", port: 1), username: "root")
        }
        #expect(refused?.errno == Errno.EACCES && refused?.reason.hasPrefix("Too many failed logins for root: refused for 3") == true)
        try await Self.succeed(guardian, .tcp(address: "198.51.100.1", port: 1), "alice")
        try await Self.succeed(guardian, .unix(uid: 0, gid: 0, pid: 1), "root")
        #expect(guardian.clearLockout("root"))
        try await Self.succeed(guardian, .tcp(address: "198.51.100.77", port: 1), "root")
    }

    /// Undecided attempts count: the sixth of six parallel guesses waits for the first five, then is refused.
    @Test func parallelAttemptsCannotOvertakeTheDecision() async throws {
        let guardian = Self.guardian(failures: 5)
        let a = SessionOrigin.tcp(address: "192.0.2.1", port: 1)
        var admitted: [ClientGuard.LoginAttempt] = []
        for _ in 0..<5 { admitted.append(try await guardian.beginLogin(a, username: "root")) }
        let sixth = Task { try await guardian.beginLogin(a, username: "root") }
        // Its admission waits on the five; prove it has not been admitted by deciding them only now.
        for attempt in admitted { await guardian.endLogin(attempt, succeeded: false) }
        await #expect(throws: CallError.self) { _ = try await sixth.value }
    }

    /// Valid logins in parallel only queue: none is refused.
    @Test func parallelValidLoginsAreAllAdmitted() async throws {
        let guardian = Self.guardian(failures: 2)
        let a = SessionOrigin.tcp(address: "192.0.2.1", port: 1)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { try await Self.succeed(guardian, a, "script") } }
            try await group.waitForAll()
        }
        #expect(guardian.lockouts.isEmpty)
    }
}
