import Foundation
import Logging
import PostgresNIO
import Synchronization
import SwitchboardCore

/// Membership through the `switchboard_nodes` table (docs/cluster.md): each node renews its row's `last_seen`
/// every `heartbeat`, and at each beat declares dead the nodes whose `last_seen` is older than `nodeTimeout`.
///
/// Times are the database server's clock, never the nodes': nodes whose clocks disagree still agree on who is
/// silent. Declaring is one `UPDATE … WHERE state = 'up' … RETURNING`, so of several survivors exactly one
/// declares each dead node and fails its jobs. A node that cannot renew its row for longer than the timeout, or
/// finds it declared dead (it was cut off, and its jobs were failed meanwhile), is fenced: it aborts its jobs,
/// since its leases are no longer its own; it then takes its row back and goes on as a member.
///
/// Job locks are leases in `switchboard_job_leases`, one row per lock: granted when absent or expired, renewed
/// with the node's row at each beat for `nodeTimeout`, deleted at release and when the holder is declared dead.
/// Each grant takes a fencing token from a sequence.
public final class PostgresClusterMembership: ClusterMembership, ClusterLocks {
    public struct Settings: Sendable {
        public var heartbeat: Duration = .seconds(2)
        public var nodeTimeout: Duration = .seconds(15)
        public init() {}
    }

    let datastore: PostgresDatastore
    let settings: Settings
    let logger: Logger
    let beating = Mutex<(name: String, task: Task<Void, Never>)?>(nil)
    /// The last renewal that succeeded, and whether this outage has fenced the node already.
    let renewal = Mutex<(last: ContinuousClock.Instant, fenced: Bool)>((ContinuousClock.now, false))
    /// The database clock in Unix milliseconds.
    static let now = "(extract(epoch from clock_timestamp()) * 1000)::bigint"

    public init(datastore: PostgresDatastore, logger: Logger, settings: Settings = Settings()) {
        self.datastore = datastore
        self.settings = settings
        self.logger = logger
    }

    public func join(_ node: ClusterNode, declared: @escaping @Sendable (ClusterNode, Duration) async -> Void,
                     fenced: @escaping @Sendable (String) async -> Void) async throws {
        _ = try await datastore.rows("""
            CREATE TABLE IF NOT EXISTS switchboard_nodes (name TEXT PRIMARY KEY, address TEXT NOT NULL, version TEXT NOT NULL,
                started BIGINT NOT NULL, last_seen BIGINT NOT NULL, state TEXT NOT NULL)
            """, [])
        _ = try await datastore.rows("""
            CREATE TABLE IF NOT EXISTS switchboard_job_leases (lock TEXT PRIMARY KEY, node TEXT NOT NULL, job BIGINT NOT NULL,
                token BIGINT NOT NULL, expires BIGINT NOT NULL)
            """, [])
        _ = try await datastore.rows("CREATE SEQUENCE IF NOT EXISTS switchboard_lease_tokens", [])
        _ = try await datastore.rows("""
            INSERT INTO switchboard_nodes (name, address, version, started, last_seen, state) VALUES (?, ?, ?, ?, \(Self.now), 'up')
            ON CONFLICT (name) DO UPDATE SET address = EXCLUDED.address, version = EXCLUDED.version, started = EXCLUDED.started,
                last_seen = EXCLUDED.last_seen, state = 'up'
            """, [.text(node.name), .text(node.address), .text(node.version), .integer(node.started)])
        let task = Task { [self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: settings.heartbeat)
                if Task.isCancelled { return }
                await beat(node.name, declared: declared, fenced: fenced)
            }
        }
        renewal.withLock { $0 = (ContinuousClock.now, false) }
        beating.withLock { $0 = (node.name, task) }
    }

    /// Renews this node's row, then declares the silent ones dead.
    func beat(_ name: String, declared: @escaping @Sendable (ClusterNode, Duration) async -> Void, fenced: @escaping @Sendable (String) async -> Void) async {
        do {
            let previous = try await datastore.rows("""
                UPDATE switchboard_nodes n SET last_seen = \(Self.now), state = 'up' FROM switchboard_nodes o
                WHERE n.name = ? AND o.name = n.name RETURNING o.state
                """, [.text(name)])
            let wasDead = try previous.first?.decode(String.self) == ClusterNode.State.dead.rawValue
            let fence = renewal.withLock { renewal -> Bool in
                defer { renewal = (ContinuousClock.now, false) }
                return wasDead && !renewal.fenced
            }
            if fence {
                await fenced("Node \(name) was declared dead by another node (silent for longer than the node timeout); its jobs were failed there")
            }
            _ = try await datastore.rows("UPDATE switchboard_job_leases SET expires = \(Self.now) + ? WHERE node = ?",
                                         [.integer(timeoutMillis), .text(name)])
            let dead = try await datastore.rows("""
                UPDATE switchboard_nodes SET state = 'dead' WHERE state = 'up' AND name <> ? AND last_seen < \(Self.now) - ?
                RETURNING name, address, version, started, last_seen, state, \(Self.now) - last_seen
                """, [.text(name), .integer(timeoutMillis)])
            for row in dead {
                // The silence on the server's clock too, as the decision was taken.
                let (name, address, version, started, lastSeen, state, silentMillis) =
                    try row.decode((String, String, String, Int64, Int64, String, Int64).self)
                let node = ClusterNode(name: name, address: address, version: version, started: started, lastSeen: lastSeen,
                                       state: ClusterNode.State(rawValue: state) ?? .dead)
                _ = try await datastore.rows("DELETE FROM switchboard_job_leases WHERE node = ?", [.text(node.name)])
                await declared(node, .milliseconds(silentMillis))
            }
        } catch {
            logger.warning("cluster heartbeat failed; other nodes will declare this one dead if it lasts", metadata: ["reason": "\(error)"])
            let silent = renewal.withLock { renewal -> Duration? in
                let silent = renewal.last.duration(to: .now)
                guard silent > settings.nodeTimeout, !renewal.fenced else { return nil }
                renewal.fenced = true
                return silent
            }
            if let silent {
                await fenced("Node \(name) could not renew its membership for \(silent.components.seconds) s, longer than the node timeout: "
                             + "the other nodes fail its jobs and take its locks")
            }
        }
    }

    var timeoutMillis: Int64 { Int64(settings.nodeTimeout.nanoseconds / 1_000_000) }

    /// This node's name once it has joined.
    func joined() throws -> String {
        guard let name = beating.withLock({ $0?.name }) else {
            throw CallError(Errno.EAGAIN, "This node has not joined the cluster yet; job locks cannot be taken")
        }
        return name
    }

    public func acquire(_ lock: String, job: Int64) async throws -> Int64? {
        let name = try joined()
        let rows = try await datastore.rows("""
            INSERT INTO switchboard_job_leases (lock, node, job, token, expires)
            VALUES (?, ?, ?, nextval('switchboard_lease_tokens'), \(Self.now) + ?)
            ON CONFLICT (lock) DO UPDATE SET node = EXCLUDED.node, job = EXCLUDED.job, token = EXCLUDED.token, expires = EXCLUDED.expires
            WHERE switchboard_job_leases.expires < \(Self.now)
            RETURNING token
            """, [.text(lock), .text(name), .integer(job), .integer(timeoutMillis)])
        return try rows.first?.decode(Int64.self)
    }

    public func release(_ lock: String, token: Int64) async {
        do {
            _ = try await datastore.rows("DELETE FROM switchboard_job_leases WHERE lock = ? AND token = ?", [.text(lock), .integer(token)])
        } catch {
            // It expires after the node timeout in any case.
            logger.warning("job lock not released; it expires after the node timeout", metadata: ["lock": .string(lock), "reason": "\(error)"])
        }
    }

    public func holder(_ lock: String) async throws -> String? {
        try await datastore.rows("SELECT node FROM switchboard_job_leases WHERE lock = ? AND expires >= \(Self.now)", [.text(lock)])
            .first?.decode(String.self)
    }

    public func nodes() async throws -> [ClusterNode] {
        try await datastore.rows("SELECT name, address, version, started, last_seen, state FROM switchboard_nodes ORDER BY name", [])
            .map(Self.node)
    }

    public func leave() async {
        guard let (name, task) = beating.withLock({ beating -> (String, Task<Void, Never>)? in
            defer { beating = nil }
            return beating.map { ($0.name, $0.task) }
        }) else { return }
        task.cancel()
        await task.value
        do {
            _ = try await datastore.rows("UPDATE switchboard_nodes SET state = 'left', last_seen = \(Self.now) WHERE name = ?", [.text(name)])
        } catch {
            logger.warning("could not mark this node as left", metadata: ["reason": "\(error)"])
        }
    }

    static func node(_ row: PostgresRow) throws -> ClusterNode {
        let (name, address, version, started, lastSeen, state) = try row.decode((String, String, String, Int64, Int64, String).self)
        return ClusterNode(name: name, address: address, version: version, started: started, lastSeen: lastSeen,
                           state: ClusterNode.State(rawValue: state) ?? .dead)
    }
}
