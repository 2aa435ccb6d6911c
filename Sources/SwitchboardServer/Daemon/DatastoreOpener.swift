import Foundation
import Logging
import SwitchboardCore
import SwitchboardStore

/// Opens the datastore the configuration names (`datastore.driver`), and says where it is in a form fit for
/// logs: a PostgreSQL DSN without its password.
enum DatastoreOpener {
    static func open(_ configuration: DaemonConfiguration, logger: Logger) async throws -> (datastore: any Datastore, location: String) {
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
                try await datastore.claimSoleUse()
            } catch {
                try? await datastore.close()
                throw error
            }
            return (datastore, dsn.redacted)
        default:
            let path = configuration.resolvedDatabasePath
            return (try SQLiteDatastore(path: path, busyTimeout: configuration.datastoreTimeout), path)
        }
    }
}
