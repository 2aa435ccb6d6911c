import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore

/// Issue 15, defect 1: a user with no roles could keep both cores busy with a backtracking `C~` filter over
/// job descriptions they wrote themselves. Every pattern now runs on the linear-time engine, and a query's
/// matching is bounded by `security.query-match-steps`, which the refusal reports.
@Suite(.serialized) struct RegexBudgetTests {
    @Test func aBacktrackingFilterIsStoppedByTheBudgetAndTheDaemonStaysResponsive() async throws {
        let budget = 50_000
        let daemon = try await TestDaemon.start { $0.queryMatchSteps = budget }
        let attacker = try await daemon.client(as: "nobody", roles: [])
        let description = String(repeating: "a", count: 2_000) + "!"
        var ids: [JSON] = []
        for _ in 0..<21 {
            let id = try await attacker.call("core.bulk", ["core.ping", [], .string(description)])
            _ = try await attacker.call("core.job_wait", [id])
            ids.append(id)
        }

        let refused = try await attacker.request("core.get_jobs", [[["description", "C~", "^(a+)+$"]]])
        let data = try #require(refused["error"]?["data"], "\(refused)")
        #expect(data["errname"] == "E2BIG", "\(refused)")
        let reported = try #require(data["extra"]?["budget"]?.intValue)
        let steps = try #require(data["extra"]?["steps"]?.intValue)
        #expect(reported == Int64(budget))
        // The work stopped at the budget: past it by at most one character's steps (the program's size).
        #expect(steps > reported && steps <= reported + 20_001, "\(steps) steps")

        // Ignoring case runs on the same engine, within the budget when the query narrows the rows first.
        let found = try await attacker.call("core.get_jobs", [[["id", "=", ids[0]], ["description", "C~", "^A+!$"]], ["count": true]])
        #expect(found == 1)
        // What cannot run in linear time is refused by its attribute path, with the reason.
        let backreference = try await attacker.request("core.get_jobs", [[["description", "~", "(a)\\1"]]])
        #expect(backreference["error"]?["data"]?["errname"] == "EINVAL", "\(backreference)")
        let issue = try #require(backreference["error"]?["data"]?["extra"]?[0])
        #expect(issue[0] == "filters.0.2")
        #expect(issue[1]?.stringValue?.contains("backreferences cannot be matched in linear time") == true, "\(issue)")

        let other = try await daemon.rootClient()
        #expect(try await other.call("core.ping") == "pong")
        for client in [attacker, other] { await client.close() }
        await daemon.stop()
    }
}
