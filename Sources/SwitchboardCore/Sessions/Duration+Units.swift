extension Duration {
    /// Whole nanoseconds, to compare with `Session.monotonicNow` readings.
    public var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }

    /// Seconds with their fraction, for reports (uptimes, rates) and arithmetic in `Double`.
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
