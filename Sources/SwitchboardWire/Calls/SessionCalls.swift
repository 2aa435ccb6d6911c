import SwitchboardCore

/// The one way every dialect runs a call: take a slot in the session's limiter, run the pipeline, give the slot back.
public enum SessionCalls {
    public static func perform(_ runtime: Runtime, session: Session, method: String, params: [JSON], messageID: JSON = .null) async -> Result<JSON, CallError> {
        do {
            try await session.limiter.acquire()
        } catch {
            return .failure(error)
        }
        defer { session.limiter.release() }
        do {
            return .success(try await runtime.call(method, params, session: session, messageID: messageID))
        } catch {
            return .failure(error)
        }
    }
}
