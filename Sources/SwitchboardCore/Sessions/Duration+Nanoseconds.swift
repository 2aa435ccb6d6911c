extension Duration {
    /// Whole nanoseconds, to compare with `Session.monotonicNow` readings.
    public var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
