/// audit -> authenticate (with the unauthenticated rate limit) -> authorize -> validate -> (stages plugins add) -> run, composed once.
public struct CallPipeline: Sendable {
    public let stages: [any CallStage]
    let entry: CallStage.Next

    public init(stages: [any CallStage] = CallPipeline.standardStages) {
        self.stages = stages
        var next: CallStage.Next = { call in try await call.method.handler(call.context, call.params) }
        for stage in stages.reversed() {
            let following = next
            next = { call in try await stage.handle(call, next: following) }
        }
        self.entry = next
    }

    public static let standardStages: [any CallStage] = [AuditStage(), AuthenticateStage(), AuthorizeStage(), ValidateStage()]

    /// Runs the call; any error that is not a `CallError` becomes an internal one (EFAULT) here.
    public func run(_ call: Call) async throws(CallError) -> JSON {
        do {
            return try await entry(call)
        } catch let error as CallError {
            throw error
        } catch is CancellationError {
            throw CallError(Errno.ECANCELED, "Call cancelled")
        } catch {
            call.context.logger.error("method \(call.method.name) failed: \(error)")
            throw CallError.internalError(String(describing: error))
        }
    }
}
