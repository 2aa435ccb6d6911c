import Testing
@testable import SwitchboardCore

@Suite struct RestartPolicyTests {
    let policy = RestartPolicy(initialDelay: .milliseconds(100), maxDelay: .seconds(10), jitter: 0.5,
                               stablePeriod: .seconds(60), intensity: 5, window: .seconds(60))
    let zero = ContinuousClock.now

    @Test func delaysDoubleWithJitterUpToTheCap() {
        #expect(policy.delay(attempt: 1, random: 0) == .milliseconds(100))
        #expect(policy.delay(attempt: 2, random: 0) == .milliseconds(200))
        #expect(policy.delay(attempt: 3, random: 1) == .milliseconds(600))
        #expect(policy.delay(attempt: 8, random: 0) == .seconds(10))
        #expect(policy.delay(attempt: 200, random: 1) == .seconds(10))
    }

    @Test func theSixthFailureInTheWindowQuarantines() {
        var record = RestartPolicy.Record()
        var decisions: [RestartPolicy.Decision] = []
        for second in 0..<6 {
            let now = zero.advanced(by: .seconds(second))
            decisions.append(record.failed(at: now, startedAt: now, policy: policy, random: 0))
        }
        #expect(decisions.prefix(5) == [.restart(after: .milliseconds(100)), .restart(after: .milliseconds(200)),
                                        .restart(after: .milliseconds(400)), .restart(after: .milliseconds(800)),
                                        .restart(after: .milliseconds(1600))])
        #expect(decisions.last == .quarantine(retryAfter: .seconds(10)))
        #expect(record.quarantined)
        #expect(record.restarts == 6)
        // Quarantine holds while it keeps failing fast, even once the window has moved on.
        let later = zero.advanced(by: .seconds(200))
        #expect(record.failed(at: later, startedAt: later, policy: policy, random: 0) == .quarantine(retryAfter: .seconds(10)))
    }

    @Test func failuresSpreadBeyondTheWindowDoNotQuarantine() {
        var record = RestartPolicy.Record()
        for step in 0..<20 {
            let now = zero.advanced(by: .seconds(step * 13))
            let decision = record.failed(at: now, startedAt: now.advanced(by: .seconds(-1)), policy: policy, random: 0)
            guard case .restart = decision else {
                Issue.record("failure \(step) quarantined: \(decision)")
                return
            }
        }
        #expect(!record.quarantined)
    }

    @Test func aStableRunResetsTheBackoffAndLiftsQuarantine() {
        var record = RestartPolicy.Record()
        for second in 0..<6 {
            let now = zero.advanced(by: .seconds(second))
            _ = record.failed(at: now, startedAt: now, policy: policy, random: 0)
        }
        #expect(record.quarantined)
        let now = zero.advanced(by: .seconds(500))
        #expect(record.failed(at: now, startedAt: zero.advanced(by: .seconds(400)), policy: policy, random: 0) == .restart(after: .milliseconds(100)))
        #expect(!record.quarantined)
        #expect(record.consecutive == 1)
    }
}
