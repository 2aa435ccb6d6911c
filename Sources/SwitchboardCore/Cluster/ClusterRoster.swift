import Foundation
import Logging
import Synchronization

/// `cluster.nodes` and what the daemon does as nodes come and go: its own join and leave announced, and a node
/// declared dead has its unfinished jobs failed (and, by the driver, its job locks freed) before the others hear
/// of it. On one node (no membership) the method answers with this node alone.
public final class ClusterRoster: Sendable {
    public static let eventName = "cluster.nodes"
    public static let methodName = "cluster.nodes"

    let runtime: Runtime
    let membership: (any ClusterMembership)?
    /// This node as it joins.
    let this: ClusterNode
    /// Whether it joined: a start that failed before joining says nothing when it leaves.
    let joined = Mutex(false)

    public init(runtime: Runtime, membership: (any ClusterMembership)?, this: ClusterNode) {
        self.runtime = runtime
        self.membership = membership
        self.this = this
    }

    /// The method and the event type, the daemon's own.
    public func register() throws {
        runtime.registry.register(ServiceDescriptor(name: "cluster", description: "The nodes sharing this daemon's datastore.",
                                                    plugin: PluginMethods.daemonPlugin))
        runtime.events.register(EventTypeDescriptor(
            Self.eventName,
            description: "A node joined (state up), left, or was declared dead by a survivor after the node timeout; fields: its cluster.nodes row.",
            roles: [Role.readonlyAdmin], scope: .cluster))
        try runtime.registry.register(MethodDescriptor(
            Self.methodName,
            description: "The cluster's nodes with the query language: name, address, version, started and last_seen (Unix ms), "
                + "state (up, left, dead). On SQLite, this node alone.",
            params: QueryArguments.parameters, returns: true, roles: [Role.readonlyAdmin], flags: .readonly
        ) { [self] _, args in
            let (filters, options) = try QueryArguments.parse(args)
            return try QueryEngine.run(try await nodes().map(\.json), filters: filters, options: options)
        })
    }

    /// Every node; this one alone without a cluster.
    func nodes() async throws -> [ClusterNode] {
        guard let membership else {
            var node = this
            node.lastSeen = Session.wallClockMillis
            return [node]
        }
        return try await membership.nodes()
    }

    /// Joins the cluster and says so.
    public func join() async throws {
        guard let membership else { return }
        try await membership.join(this, declared: { [self] dead, silence in await self.declaredDead(dead, silence: silence) },
                                  fenced: { [self] reason in await self.fenced(reason) })
        joined.withLock { $0 = true }
        runtime.events.publish(Event(name: Self.eventName, kind: .changed, id: .string(this.name), fields: this.json))
    }

    /// Leaves it in order, and says so first, while the events still travel.
    public func leave() async {
        guard let membership, joined.withLock({ joined in defer { joined = false }; return joined }) else { return }
        var left = this
        left.state = .left
        left.lastSeen = Session.wallClockMillis
        runtime.events.publish(Event(name: Self.eventName, kind: .changed, id: .string(this.name), fields: left.json))
        await membership.leave()
    }

    /// This node lost its membership: the others have failed (or will fail) its jobs and taken its locks, so it
    /// aborts what it runs rather than go on as if it held them.
    func fenced(_ reason: String) async {
        runtime.logger.error("this node lost its cluster membership; aborting its jobs", metadata: ["reason": .string(reason)])
        await runtime.jobs.abortAll(reason: reason)
    }

    func declaredDead(_ node: ClusterNode, silence: Duration) async {
        let seconds = Double(silence.nanoseconds) / 1e9
        runtime.logger.error("cluster node declared dead: no heartbeat", metadata: [
            "node": .string(node.name), "silent_seconds": .string(String(format: "%.1f", seconds)),
        ])
        let reason = "Node \(node.name) stopped answering (no heartbeat for \(Int(seconds.rounded())) s); its jobs were failed by node \(this.name)"
        await runtime.jobs.failJobs(ofNode: node.name, reason: reason)
        runtime.events.publish(Event(name: Self.eventName, kind: .changed, id: .string(node.name), fields: node.json))
    }
}
