import Testing

/// Polls `condition` until it holds, for 10 s at most, and records an issue naming `what` if it never does.
///
/// For state the daemon reaches asynchronously (a producer stopped, a child spawned): a fixed sleep bets on
/// how soon a loaded 2-core machine gets to it, and loses now and then.
func eventually(_ what: String, sourceLocation: SourceLocation = #_sourceLocation,
                _ condition: () async throws -> Bool) async throws {
    for _ in 0..<1_000 {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("never: \(what)", sourceLocation: sourceLocation)
}
