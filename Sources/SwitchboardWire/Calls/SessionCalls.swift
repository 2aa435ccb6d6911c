import SwitchboardCore

/// The one way every dialect runs a call: take a slot in the session's limiter, run the pipeline, give the slot back.
public enum SessionCalls {
    /// Where a call of `method` should be started (`addTask(executorPreference:)`): a method forwarded to another
    /// process then costs no thread hop to the loop of its socket and none back.
    public static func executor(_ runtime: Runtime, _ method: String) -> (any TaskExecutor)? {
        runtime.registry.executor(for: method)
    }

    /// Each call is counted in `runtime.callMetrics` when metrics are on (refusals included), with its latency
    /// from the moment it asked for a slot.
    /// `fragments`: the client takes the answer in fragments (see `FragmentedAnswer`). `pipes`: the transfer the
    /// call carries (`POST /_upload`).
    public static func perform(_ runtime: Runtime, session: Session, method: String, params: [JSON], messageID: JSON = .null,
                               fragments: FragmentedAnswer? = nil, pipes: JobPipes? = nil) async -> Result<JSON, CallError> {
        if runtime.drain.refuses(method) {
            runtime.callMetrics?.record(method: method, dialect: session.dialect, error: CallDrain.refusal, duration: .zero)
            return .failure(CallDrain.refusal)
        }
        let slot: CallLimiter.Slot
        do {
            slot = try await session.limiter.acquire(method)
        } catch {
            runtime.callMetrics?.record(method: method, dialect: session.dialect, error: error, duration: .zero)
            return .failure(error)
        }
        defer { session.limiter.release(slot) }
        let result: Result<JSON, CallError>
        do {
            result = .success(try await runtime.call(method, params, session: session, messageID: messageID, fragments: fragments, pipes: pipes))
        } catch {
            result = .failure(error)
        }
        if let metrics = runtime.callMetrics {
            let error: CallError? = if case .failure(let error) = result { error } else { nil }
            metrics.record(method: method, dialect: session.dialect, error: error, duration: slot.since.duration(to: .now))
        }
        return result
    }
}
