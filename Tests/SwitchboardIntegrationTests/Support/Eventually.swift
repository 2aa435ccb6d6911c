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

/// Polls `value` until it gives one, for `timeout` at most, and returns it; records an issue and throws if it
/// never does. For state that takes a reconnect or a restart, with its own bound.
func eventuallyValue<T>(_ what: String = "a value", timeout: Duration = .seconds(10), sourceLocation: SourceLocation = #_sourceLocation,
                        _ value: () async throws -> T?) async throws -> T {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if let found = try await value() { return found }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("never: \(what) within \(timeout)", sourceLocation: sourceLocation)
    throw CancellationError()
}
