import Foundation
import Logging
import SwitchboardCore
import SwitchboardStore

/// Opens the datastore the configuration names (`datastore.driver`), and says where it is in a form fit for
/// logs: a PostgreSQL DSN without its password. On PostgreSQL the daemon is a node of the cluster of every daemon
/// on that database: it claims its node name and gets the relay its events travel by (started by the daemon).
enum DatastoreOpener {
    struct Opened {
        var datastore: any Datastore
        var location: String
        var cluster: (any ClusterTransport)?
        var membership: (any ClusterMembership)?
        var locks: (any ClusterLocks)?
    }

    static func open(_ configuration: DaemonConfiguration, logger: Logger) async throws -> Opened {
        switch configuration.datastoreDriver {
        case "postgresql":
            let dsn: PostgresDSN
            do {
                dsn = try PostgresDSN(configuration.datastoreDSN ?? "", passwordFile: configuration.datastorePasswordFile)
            } catch {
                throw ConfigurationError(path: "datastore.dsn", reason: error.reason)
            }
            let datastore = try await PostgresDatastore(dsn: dsn, logger: logger, timeout: configuration.datastoreTimeout,
                                                        applicationName: "switchboard \(configuration.resolvedNodeName) pid \(getpid())")
            do {
                try await datastore.claimNode(configuration.resolvedNodeName)
            } catch {
                try? await datastore.close()
                throw error
            }
            let relay = PostgresEventRelay(datastore: datastore, nodeName: configuration.resolvedNodeName, logger: logger)
            var settings = PostgresClusterMembership.Settings()
            settings.heartbeat = configuration.clusterHeartbeat
            settings.nodeTimeout = configuration.clusterNodeTimeout
            let membership = PostgresClusterMembership(datastore: datastore, logger: logger, settings: settings)
            return Opened(datastore: datastore, location: dsn.redacted, cluster: relay, membership: membership, locks: membership)
        default:
            let path = configuration.resolvedDatabasePath
            return Opened(datastore: try SQLiteDatastore(path: path, busyTimeout: configuration.datastoreTimeout), location: path, cluster: nil, membership: nil, locks: nil)
        }
    }
}
