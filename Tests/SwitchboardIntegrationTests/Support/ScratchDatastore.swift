import Foundation
import Logging
import Testing
import SwitchboardCore
import SwitchboardStore

/// The two datastore drivers, for tests that must hold on both.
enum DatastoreDriver: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgresql
    var testDescription: String { rawValue }
}

/// A fresh, empty datastore of one driver: a new SQLite file, or a new PostgreSQL database. `discard` closes it
/// and removes the file or drops the database.
struct ScratchDatastore: Sendable {
    let store: any Datastore
    /// Where a second handle opens the same data: the file's path, or the database's DSN.
    let location: String
    let driver: DatastoreDriver

    static func open(_ driver: DatastoreDriver) async throws -> ScratchDatastore {
        switch driver {
        case .sqlite:
            let folder = TestDaemon.makeStateDir()
            let path = folder + "/db.sqlite"
            return ScratchDatastore(store: try SQLiteDatastore(path: path), location: path, driver: driver)
        case .postgresql:
            let dsn = try await TestPostgres.createDatabase()
            return ScratchDatastore(store: try await reopen(driver, dsn), location: dsn, driver: driver)
        }
    }

    /// Another handle on the same data, as a restarted daemon opens it.
    static func reopen(_ driver: DatastoreDriver, _ location: String) async throws -> any Datastore {
        switch driver {
        case .sqlite: return try SQLiteDatastore(path: location)
        case .postgresql: return try await PostgresDatastore(dsn: PostgresDSN(location), logger: Logger(label: "test-datastore"))
        }
    }

    func discard() async {
        try? await store.close()
        switch driver {
        case .sqlite: try? FileManager.default.removeItem(atPath: (location as NSString).deletingLastPathComponent)
        case .postgresql: await TestPostgres.dropDatabase(location)
        }
    }
}
