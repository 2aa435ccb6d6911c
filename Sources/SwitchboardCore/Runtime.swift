import CoreMetrics
import Logging

/// The daemon's core, shared by every dialect: the registry, the call pipeline, the event bus and the datastore.
///
/// Dialects turn frames into `call(_:_:session:)` and results back into frames; nothing else about a call
/// differs between them.
public final class Runtime: Sendable {
    public let registry: MethodRegistry
    public let events: EventBus
    public let datastore: any Datastore
    public let pipeline: CallPipeline
    /// The HTTP routes plugins serve under `/plugins/`.
    public let httpRoutes = HTTPRouteTable()
    public let jobs: JobManager
    /// Rate limits and login lockouts by client address.
    public let clientGuard: ClientGuard
    /// Every open connection's session: caps, the idle sweeper, termination.
    public let sessions: SessionDirectory
    /// Refuses clients' new calls once the daemon is stopping.
    public let drain = CallDrain()
    /// Rooms and their members (Zephserver's room handler).
    public let rooms: RoomDirectory
    /// Messages plugins push to sessions, users, rooms or everyone.
    public let push: PushDelivery
    /// What plugins offer to authenticate a connection from its HTTP upgrade request.
    public let sessionManagers: SessionManagers
    /// The plugins' workers (Zephserver's services).
    public let workers: WorkerSupervisor
    /// The audit trail of logins and of calls that may change something.
    public let audit: AuditLog
    /// Warnings for the operator, logged and published on `core.alerts`.
    public let alerts: Alerts
    public let logger: Logger
    /// Where plugins may keep files (job logs, keys); created at start.
    public let stateDirectory: String
    /// The daemon's version, reported by `system.info`.
    public let version: String
    public let startedAt: ContinuousClock.Instant
    /// This node's name in a cluster (`dispatcher.node-name`; the host name unless configured).
    public let nodeName: String
    /// `security.secret-key-file`: the key sealing secrets kept in the datastore.
    public let secretKeyFile: String
    /// File transfers: their slots and the tickets of download URLs.
    public let transfers: Transfers
    /// The regular-expression steps one call's queries may spend (`security.query-match-steps`).
    public let queryMatchSteps: Int

    private let internalSession: Session
    /// Calls counted by method, dialect and result, with their latency; nil when metrics are off.
    public let callMetrics: CallMetrics?

    public init(
        datastore: any Datastore, stateDirectory: String, logger: Logger, version: String = Runtime.version,
        pipeline: CallPipeline = CallPipeline(), registry: MethodRegistry = MethodRegistry(), events: EventBus = EventBus(),
        jobLimits: JobManager.Limits = JobManager.Limits(), guardLimits: ClientGuard.Limits = ClientGuard.Limits(),
        sessionLimits: SessionDirectory.Limits = SessionDirectory.Limits(), auditLimits: AuditLog.Limits = AuditLog.Limits(),
        queryMatchSteps: Int = MatchBudget.defaultLimit, nodeName: String = Runtime.hostname,
        metricsFactory: (any MetricsFactory)? = nil, secretKeyFile: String? = nil, transferLimits: TransferLimits = TransferLimits()
    ) {
        self.transfers = Transfers(limits: transferLimits)
        self.nodeName = nodeName
        self.secretKeyFile = secretKeyFile ?? stateDirectory + "/secret.key"
        self.queryMatchSteps = queryMatchSteps
        // With metrics on, every datastore operation is timed; off, the driver is used as it is.
        let datastore: any Datastore = metricsFactory.map { MeasuredDatastore(datastore, factory: $0) } ?? datastore
        self.datastore = datastore
        self.stateDirectory = stateDirectory
        self.logger = logger
        self.version = version
        self.pipeline = pipeline
        self.registry = registry
        self.events = events
        let alerts = Alerts(events: events, logger: logger)
        self.alerts = alerts
        var onFinished: (@Sendable (String, JobState) -> Void)?
        if let metricsFactory {
            let jobMetrics = JobMetrics(factory: metricsFactory, registry: registry)
            onFinished = { method, state in jobMetrics.finished(method: method, state: state) }
        }
        self.jobs = JobManager(datastore: datastore, events: events, stateDirectory: stateDirectory, logger: logger, limits: jobLimits,
                               alerts: alerts, nodeName: nodeName, onFinished: onFinished)
        self.clientGuard = ClientGuard(limits: guardLimits, logger: logger)
        let sessions = SessionDirectory(limits: sessionLimits)
        self.sessions = sessions
        let rooms = RoomDirectory(events: events)
        self.rooms = rooms
        self.push = PushDelivery(sessions: sessions, rooms: rooms, events: events)
        self.sessionManagers = SessionManagers(logger: logger)
        self.workers = WorkerSupervisor(logger: logger, events: events)
        self.audit = AuditLog(datastore: datastore, limits: auditLimits, logger: logger, alerts: alerts)
        self.startedAt = .now
        self.internalSession = Session.makeInternal()
        self.callMetrics = metricsFactory.map { CallMetrics(factory: $0, registry: registry) }
    }

    public static let version = "0.1.0"

    /// Runs one call through the pipeline for `session`.
    /// - Throws: `CallError` only.
    public func call(_ method: String, _ params: [JSON], session: Session, messageID: JSON = .null) async throws(CallError) -> JSON {
        try await call(method, params, session: session, messageID: messageID, returningJobID: false, fragments: nil, pipes: nil)
    }

    /// `returningJobID`: a job method answers its id at once, whatever the session's `legacy_jobs`. `fragments`:
    /// the client takes the answer in fragments, and a query method may leave a stream there. `pipes`: the
    /// upload or download the call carries, for a job method that takes it (it then answers its job id at once).
    public func call(_ method: String, _ params: [JSON], session: Session, messageID: JSON = .null, returningJobID: Bool = false,
                     fragments: FragmentedAnswer?, pipes: JobPipes? = nil) async throws(CallError) -> JSON {
        guard let descriptor = registry.method(method) else { throw CallError.methodNotFound(method) }
        // A job method checks its transfers itself (`MethodDescriptor.job`); any other takes none.
        if let pipes, !descriptor.flags.contains(.job) { try JobPipeKinds.check(offered: pipes.kinds, taken: [], method: method) }
        let context = CallContext(session: session, runtime: self, method: method, logger: logger, messageID: messageID,
                                  returnsJobID: returningJobID || pipes != nil, fragments: fragments, pipes: pipes)
        let call = Call(method: descriptor, params: params, context: context)
        // Binding a task-local costs an allocation per call: only when the limit is not the default.
        if queryMatchSteps == MatchBudget.defaultLimit { return try await pipeline.run(call) }
        do {
            return try await MatchBudget.$taskLimit.withValue(queryMatchSteps) { try await pipeline.run(call) }
        } catch let error as CallError {
            throw error
        } catch {
            throw CallError.internalError(String(describing: error))
        }
    }

    /// Runs a call as the daemon itself.
    public func callInternal(_ method: String, _ params: [JSON] = []) async throws(CallError) -> JSON {
        try await call(method, params, session: internalSession)
    }
}
