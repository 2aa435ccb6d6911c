extension SessionDirectory {
    /// Client connections by dialect, the daemon's own internal sessions left out: what `control.status` and
    /// `/metrics` both report.
    public var clientsByDialect: [String: Int] {
        var counts: [String: Int] = [:]
        for session in sessions where session.origin != .internal { counts[session.dialect, default: 0] += 1 }
        return counts
    }
}
