import Foundation
import Testing
import SwitchboardCore
@testable import SwitchboardPlugins

/// Tokens live in memory with a cap (10,000 by default): a client generating tokens in a loop cannot grow the
/// daemon; beyond the cap, expired tokens go first, then the one closest to expiring (issue 16).
@Suite struct TokenCapTests {
    static func token(expiresIn seconds: Int) -> TokenStore.Token {
        TokenStore.Token(credentials: Credentials(username: "ops", userID: nil, roles: [], mechanism: .tokenPlain),
                         expires: .now + .seconds(seconds), singleUse: false, origin: nil, attributes: .null)
    }

    @Test func theCapHoldsAndEvictsTheTokenClosestToExpiring() {
        #expect(TokenStore().capacity == 10_000)
        let store = TokenStore(capacity: 3)
        let origin = SessionOrigin.tcp(address: "127.0.0.1", port: 1)
        let soonest = store.issue(Self.token(expiresIn: 60))
        let others = [store.issue(Self.token(expiresIn: 600)), store.issue(Self.token(expiresIn: 600))]
        let fourth = store.issue(Self.token(expiresIn: 600))
        if case .failure(let refusal) = store.redeem(soonest, origin: origin) { #expect(refusal == .unknown) } else { Issue.record("kept") }
        for kept in others + [fourth] {
            if case .failure(let refusal) = store.redeem(kept, origin: origin) { Issue.record("\(refusal)") }
        }
        // An expired token makes room before a live one is evicted.
        let full = TokenStore(capacity: 3)
        let live = [full.issue(Self.token(expiresIn: 600)), full.issue(Self.token(expiresIn: 600))]
        _ = full.issue(Self.token(expiresIn: -1))
        let newest = full.issue(Self.token(expiresIn: 600))
        for kept in live + [newest] {
            if case .failure(let refusal) = full.redeem(kept, origin: origin) { Issue.record("\(refusal)") }
        }
    }
}
