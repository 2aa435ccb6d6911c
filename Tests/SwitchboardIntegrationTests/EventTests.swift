import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore

extension RPCClient {
    /// The next notification, within `timeout`.
    func nextNotification(timeout: Duration = .seconds(10)) async throws -> JSON {
        let stream = notifications
        return try await withThrowingTaskGroup(of: JSON?.self) { group in
            group.addTask {
                var iterator = stream.makeAsyncIterator()
                return await iterator.next()
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw ClientError.protocolViolation("no notification within \(timeout)")
            }
            return value
        }
    }
}

@Suite(.serialized) struct EventTests {
    @Test func crudEventsReachSubscribers() async throws {
        let daemon = try await TestDaemon.start()
        let admin = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        let id = try await admin.call("core.subscribe", ["user.query"])
        #expect(id.stringValue?.isEmpty == false)
        let created = try await admin.call("user.create", [["username": "watched"]])
        let event = try await admin.nextNotification()
        #expect(event["jsonrpc"] == "2.0")
        #expect(event["method"] == "collection_update")
        #expect(event["params"]?["msg"] == "added")
        #expect(event["params"]?["collection"] == "user.query")
        #expect(event["params"]?["id"] == created["id"])
        #expect(event["params"]?["fields"]?["username"] == "watched")
        #expect(event["params"]?["fields"]?["password_hash"] == nil)
        _ = try await admin.call("user.update", [created["id"]!, ["full_name": "W"]])
        let changed = try await admin.nextNotification()
        #expect(changed["params"]?["msg"] == "changed")
        #expect(changed["params"]?["fields"]?["full_name"] == "W")
        _ = try await admin.call("user.delete", [created["id"]!])
        let removed = try await admin.nextNotification()
        #expect(removed["params"]?["msg"] == "removed")
        #expect(removed["params"]?["id"] == created["id"])
        // After unsubscribing nothing more arrives; a config change on another stream is not seen either.
        _ = try await admin.call("core.unsubscribe", [id])
        _ = try await admin.call("user.create", [["username": "unseen"]])
        _ = try await admin.call("core.subscribe", ["system.general.config"])
        _ = try await admin.call("system.general.update", [["motd": "m"]])
        let next = try await admin.nextNotification()
        #expect(next["params"]?["collection"] == "system.general.config")
        #expect(next["params"]?["fields"]?["motd"] == "m")
        await admin.close()
        await daemon.stop()
    }

    @Test func wildcardsAndRoleFiltering() async throws {
        let daemon = try await TestDaemon.start()
        let reader = try await daemon.client(as: "reader", roles: ["READONLY_ADMIN"])
        let nobody = try await daemon.client(as: "nobody", roles: [])
        let admin = try await daemon.client(as: "admin", roles: ["FULL_ADMIN"])
        _ = try await reader.call("core.subscribe", ["*"])
        _ = try await reader.call("core.subscribe", ["user.*"])  // overlapping: still one delivery per event
        _ = try await nobody.call("core.subscribe", ["*"])
        _ = try await admin.call("core.subscribe", ["system.*"])
        // Subscribing by name needs the event's roles.
        let refused = try await nobody.request("core.subscribe", ["user.query"])
        #expect(refused["error"]?["data"]?["error"] == 13)
        let unknown = try await admin.request("core.subscribe", ["no.such.event"])
        #expect(unknown["error"]?["data"]?["error"] == 2)
        let anonymous = try await RPCClient.connect(to: daemon.tcp)
        #expect(try await anonymous.request("core.subscribe", ["*"])["error"]?["data"]?["error"] == 207)

        _ = try await admin.call("user.create", [["username": "e1"]])
        _ = try await admin.call("system.general.update", [["motd": "x"]])
        let first = try await reader.nextNotification()
        #expect(first["params"]?["collection"] == "user.query")
        let second = try await reader.nextNotification()
        #expect(second["params"]?["collection"] == "system.general.config")
        let adminEvent = try await admin.nextNotification()
        #expect(adminEvent["params"]?["collection"] == "system.general.config")
        // The session without roles received nothing: the first event it gets is its own job's, sent after.
        let marker = try await nobody.call("core.bulk", ["core.ping", [[]]])
        let nobodysFirst = try await nobody.nextNotification()
        #expect(nobodysFirst["params"]?["collection"] == "core.get_jobs", "\(nobodysFirst)")
        #expect(nobodysFirst["params"]?["id"] == marker, "\(nobodysFirst)")
        // A logged-out session stops receiving: back in and subscribed again, the first event is the later user.
        _ = try await reader.call("auth.logout")
        _ = try await admin.call("user.create", [["username": "e2"]])
        #expect(try await reader.call("auth.login", ["reader", "pa55word"]) == true)
        _ = try await reader.call("core.subscribe", ["user.query"])
        _ = try await admin.call("user.create", [["username": "e3"]])
        let afterLogout = try await reader.nextNotification()
        #expect(afterLogout["params"]?["fields"]?["username"] == "e3", "\(afterLogout)")
        for client in [reader, nobody, admin, anonymous] { await client.close() }
        await daemon.stop()
    }

    @Test func eventTypesAreIntrospectable() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        let events = try #require(try await root.call("core.get_events").objectValue)
        #expect(events["user.query"]?["roles"] == ["READONLY_ADMIN", "USER_READ", "USER_WRITE"])
        #expect(events["system.general.config"] != nil)
        await root.close()
        await daemon.stop()
    }
}
