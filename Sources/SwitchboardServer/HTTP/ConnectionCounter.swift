import Synchronization

/// Every accepted socket, counted from the moment it is accepted until it closes, whatever it turns out to
/// be (a WebSocket, a REST request, or a peer that never says anything): the connection caps apply to
/// sockets, since a socket that never finishes its HTTP request holds a file descriptor all the same.
///
/// TCP sockets count towards `maxTCP` and, by client address, `maxPerAddress`. The local socket has a pool
/// of its own (`maxLocal`), so an administrator can still get in over it when TCP is saturated.
final class ConnectionCounter: Sendable {
    struct Limits: Sendable, Equatable {
        var maxTCP: Int
        var maxPerAddress: Int
        var maxLocal: Int
    }

    private struct State {
        var tcp = 0
        var local = 0
        var perAddress: [String: Int] = [:]
    }

    let limits: Limits
    private let state = Mutex(State())

    init(limits: Limits) {
        self.limits = limits
    }

    /// Counts a new socket; `address` nil for the local socket. Returns why it is refused, or nil.
    func admit(address: String?) -> String? {
        state.withLock { state in
            guard let address else {
                if state.local >= limits.maxLocal { return "Too many local connections (\(limits.maxLocal))" }
                state.local += 1
                return nil
            }
            if state.tcp >= limits.maxTCP { return "Too many connections (\(limits.maxTCP))" }
            let count = state.perAddress[address, default: 0]
            if count >= limits.maxPerAddress { return "Too many connections from \(address) (\(limits.maxPerAddress))" }
            state.perAddress[address] = count + 1
            state.tcp += 1
            return nil
        }
    }

    /// Forgets a socket `admit` counted.
    func release(address: String?) {
        state.withLock { state in
            guard let address else {
                state.local -= 1
                return
            }
            state.tcp -= 1
            let count = state.perAddress[address, default: 1] - 1
            state.perAddress[address] = count > 0 ? count : nil
        }
    }

    var counts: (tcp: Int, local: Int) { state.withLock { ($0.tcp, $0.local) } }
}
