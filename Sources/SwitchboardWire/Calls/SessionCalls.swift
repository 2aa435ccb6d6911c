import SwitchboardCore

/// The one way every dialect runs a call: take a slot in the session's limiter, run the pipeline, give the slot back.
public enum SessionCalls {
    /// Where a call of `method` should be started (`addTask(executorPreference:)`): a method forwarded to another
    /// process then costs no thread hop to the loop of its socket and none back.
    public static func executor(_ runtime: Runtime, _ method: String) -> (any TaskExecutor)? {
        runtime.registry.executor(for: method)
    }

    public static func perform(_ runtime: Runtime, session: Session, method: String, params: [JSON], messageID: JSON = .null) async -> Result<JSON, CallError> {
        if runtime.drain.refuses(method) { return .failure(CallDrain.refusal) }
        let slot: CallLimiter.Slot
        do {
            slot = try await session.limiter.acquire(method)
        } catch {
            return .failure(error)
        }
        defer { session.limiter.release(slot) }
        do {
            return .success(try await runtime.call(method, params, session: session, messageID: messageID))
        } catch {
            return .failure(error)
        }
    }
}
