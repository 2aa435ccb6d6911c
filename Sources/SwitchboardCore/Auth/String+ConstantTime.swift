extension String {
    /// Compares two secrets (digests, tokens) in time that depends on their lengths only, so a secret cannot be
    /// guessed byte by byte from how long a refusal takes.
    public func constantTimeEquals(_ other: String) -> Bool {
        let x = Array(utf8), y = Array(other.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
