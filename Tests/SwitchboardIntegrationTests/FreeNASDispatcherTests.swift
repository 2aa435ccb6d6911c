import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore
import SwitchboardServer

/// FreeNAS 10's discovery and task services and its envelope event frames (issue 22, item 1).
@Suite(.serialized) struct FreeNASDispatcherTests {
    /// Every answer of discovery.* agrees with core.get_methods, get_events and get_schemas, with and without
    /// private methods.
    @Test func discoveryMatchesTheRegistry() async throws {
        let daemon = try await TestDaemon.start()
        let root = try await daemon.rootClient()
        for showPrivate in [false, true] {
            _ = try await root.call("core.set_options", [["private_methods": .bool(showPrivate)]])
            let methods = try #require(try await root.call("core.get_methods").objectValue)
            let services = try await root.call("discovery.get_services")
            let namespaces = Set(methods.keys.map { name in String(name[..<(name.lastIndex(of: ".") ?? name.endIndex)]) })
            #expect(services == JSON(strings: namespaces.sorted()))
            for service in namespaces {
                let listed = try #require(try await root.call("discovery.get_methods", [.string(service)]).arrayValue)
                let expected = methods.filter { $0.key.hasPrefix(service + ".") && !$0.key.dropFirst(service.count + 1).contains(".") }
                #expect(Set(listed.compactMap { $0["name"]?.stringValue }.map { "\(service).\($0)" }) == Set(expected.keys), "\(service)")
                for entry in listed {
                    let name = "\(service).\(entry["name"]?.stringValue ?? "")"
                    let core = try #require(methods[name])
                    #expect(entry["description"] == core["description"], "\(name)")
                    #expect(entry["result-schema"] == core["returns"], "\(name)")
                    #expect(entry["private"] == core["private"], "\(name)")
                    #expect(entry["params-schema"]?["items"]?.arrayValue?.count == core["accepts"]?.arrayValue?.count, "\(name)")
                }
            }
            let tasks = try #require(try await root.call("discovery.get_tasks").objectValue)
            #expect(Set(tasks.keys) == Set(methods.filter { $0.value["job"] == true }.keys))
            #expect(tasks["test.gated"]?["abortable"] == true)
            #expect(tasks["test.unabortable"]?["abortable"] == false)
        }
        let missing = try await root.request("discovery.get_methods", ["no_such_service"])
        #expect(missing["error"]?["data"]?["error"] == .int(Int64(Errno.ENOENT)))
        #expect(missing["error"]?["data"]?["reason"] == "Service not found")

        let events = try #require(try await root.call("core.get_events").objectValue)
        let types = try #require(try await root.call("discovery.get_event_types").objectValue)
        #expect(Set(types.keys) == Set(events.keys))
        #expect(types["test.fanout"]?["refcount"] == 0)
        _ = try await root.call("core.subscribe", ["test.fanout"])
        #expect(try await root.call("discovery.get_event_types")["test.fanout"]?["refcount"] == 1)
        let schema = try await root.call("discovery.get_schema")
        #expect(schema["definitions"] == (try await root.call("core.get_schemas")))
        #expect(schema["components"]?["schemas"] == schema["definitions"])
        await root.close()
        await daemon.stop()
    }

    /// A task is a job: submitted over each dialect it is in core.get_jobs, and task.* sees it as FreeNAS 10 did.
    @Test func tasksAreJobsOnEveryDialect() async throws {
        let daemon = try await TestDaemon.start()
        let admin = try await daemon.client(as: "admin", roles: [Role.fullAdmin])
        // The session waits for job results, yet task.submit still answers the id at once.
        _ = try await admin.call("core.set_options", [["legacy_jobs": false]])
        var ids: [Int64] = []
        ids.append(try #require(try await admin.call("task.submit", ["test.job", [2, 1]]).intValue))

        var target = daemon.tcp
        target.path = "/socket"
        let envelope = try await WebSocketConnection.connect(to: target)
        try await envelope.send(#"{"namespace":"rpc","name":"auth","id":"a","args":{"username":"admin","password":"pa55word"}}"#)
        #expect(try await envelope.nextJSON()["name"] == "response")
        try await envelope.send(#"{"namespace":"rpc","name":"call","id":"s","args":{"method":"task.submit","args":["test.job",[1,1]]}}"#)
        ids.append(try #require(try await envelope.nextJSON()["args"]?.intValue))

        target.path = "/websocket"
        let ddp = try await WebSocketConnection.connect(to: target)
        try await ddp.send(#"{"msg":"connect","version":"1","support":["1"]}"#)
        #expect(try await ddp.nextJSON()["msg"] == "connected")
        try await ddp.send(#"{"msg":"method","id":"1","method":"auth.login","params":["admin","pa55word"]}"#)
        #expect(try await ddp.nextJSON()["result"] == true)
        try await ddp.send(#"{"msg":"method","id":"2","method":"task.submit","params":["test.job",[1,1]]}"#)
        ids.append(try #require(try await ddp.nextJSON()["result"]?.intValue))

        let rest = try await HTTPExchange.send("POST", "http://127.0.0.1:\(daemon.port)/api/v2.0/task/submit",
                                               headers: HTTPExchange.basic("admin", "pa55word"), body: #"["test.job", [1, 1]]"#)
        #expect(rest.status == 200, "\(rest.text)")
        ids.append(try #require(rest.json?.intValue, "\(rest.text)"))

        for id in ids {
            _ = try await admin.call("task.wait", [.int(id)])
            let job = try await admin.call("core.get_jobs", [[["id", "=", .int(id)]], ["get": true]])
            #expect(job["method"] == "test.job")
            let task = try await admin.call("task.status", [.int(id)])
            #expect(task["name"] == "test.job" && task["state"] == "FINISHED" && task["result"] == job["result"], "\(task)")
            #expect(task["args"] == job["arguments"])
            #expect(task["progress"]?["percentage"] == 100)
            #expect(task["created_at"] == job["time_started"] && task["finished_at"] == job["time_finished"])
        }
        // FreeNAS 10's query params: sort and single.
        let newest = try await admin.call("task.query", [[["name", "=", "test.job"], ["state", "=", "FINISHED"]], ["sort": "-id", "single": true]])
        #expect(newest["id"] == .int(ids.max() ?? 0))
        #expect(try await admin.call("task.query", [[["state", "=", "FINISHED"]], ["count": true]]) == .int(Int64(ids.count)))

        // A failed task carries its error; a method that is not a job is not a task; the method's own rights apply.
        let failed = try #require(try await admin.call("task.submit", ["test.job", [0, 1, true]]).intValue)
        _ = try await admin.call("task.wait", [.int(failed)])
        let failure = try await admin.call("task.status", [.int(failed)])
        #expect(failure["state"] == "FAILED")
        #expect(failure["error"]?["code"] == .int(Int64(Errno.ENOSPC)) && failure["error"]?["message"] == "no space left for the test", "\(failure)")
        let notTask = try await admin.request("task.submit", ["core.ping", []])
        #expect(notTask["error"]?["data"]?["error"] == .int(Int64(Errno.EINVAL)))
        let invalid = try await admin.request("task.submit", ["test.job", ["many"]])
        #expect(invalid["error"]?["data"]?["extra"]?[0]?[0] == "test.job.steps" || invalid["error"]?["data"]?["error"] == 22, "\(invalid)")
        let nobody = try await daemon.client(as: "nobody", roles: [])
        let refused = try await nobody.request("task.submit", ["test.job", [1]])
        #expect(refused["error"]?["data"]?["error"] == 13, "\(refused)")
        // Another user's task is not there for someone who may not see it.
        let hidden = try await nobody.request("task.status", [.int(ids[0])])
        #expect(hidden["error"]?["data"]?["error"] == .int(Int64(Errno.ENOENT)), "\(hidden)")
        #expect(try await nobody.call("task.query") == [])

        // Abort, as FreeNAS 10's task.abort.
        let gated = try #require(try await admin.call("task.submit", ["test.gated", ["never"]]).intValue)
        #expect(try await admin.call("task.abort", [.int(gated)]) == nil)
        _ = try await admin.call("task.wait", [.int(gated)])
        #expect(try await admin.call("task.status", [.int(gated)])["state"] == "ABORTED")

        await nobody.close()
        await envelope.close()
        await ddp.close()
        await admin.close()
        await daemon.stop()
    }

    /// A connection that negotiates features gets FreeNAS 10's event frames; one that does not keeps sysadm's,
    /// each encoded once for all who take it; `dispatcher.envelope-events: freenas` makes FreeNAS 10's the default.
    @Test func envelopeEventsInFreeNASFrames() async throws {
        let daemon = try await TestDaemon.start()
        await (try daemon.client(as: "admin", roles: [Role.fullAdmin])).close()
        var target = daemon.tcp
        target.path = "/socket"
        func login(_ ws: WebSocketConnection) async throws -> JSON {
            try await ws.send(#"{"namespace":"rpc","name":"auth","id":"a","args":{"username":"admin","password":"pa55word"}}"#)
            return try await ws.nextJSON()
        }
        let freenas = try await WebSocketConnection.connect(to: target)
        let sysadm = try await WebSocketConnection.connect(to: target)
        #expect(try await login(freenas)["args"]?.arrayValue?.count == 2)
        _ = try await login(sysadm)
        try await freenas.send(#"{"namespace":"rpc","name":"call","id":"f","args":{"method":"management.enable_features","args":[["streaming_responses"]]}}"#)
        #expect(try await freenas.nextJSON() == ["namespace": "rpc", "name": "response", "id": "f", "args": nil])
        try await freenas.send(#"{"namespace":"rpc","name":"call","id":"g","args":{"method":"management.get_enabled_features","args":[]}}"#)
        #expect(try await freenas.nextJSON()["args"] == ["streaming_responses"])
        try await freenas.send(#"{"namespace":"rpc","name":"call","id":"x","args":{"method":"management.enable_features","args":[["teleport"]]}}"#)
        let unknown = try await freenas.nextJSON()
        #expect(unknown["name"] == "error" && unknown["args"]?["code"] == 22, "\(unknown)")
        for ws in [freenas, sysadm] {
            try await ws.send(#"{"namespace":"events","name":"subscribe","id":"s","args":["test.fanout"]}"#)
            #expect(try await ws.nextJSON()["args"] == ["subscribe": ["test.fanout"]])
        }
        let root = try await daemon.rootClient()
        _ = try await root.call("test.emit", [1, 3])
        let event = try await freenas.nextJSON()
        #expect(event == ["namespace": "events", "name": "event", "id": nil,
                          "args": ["name": "test.fanout", "args": ["msg": "changed", "collection": "test.fanout", "id": 0, "fields": ["n": 0, "pad": "xxx"]]]],
                "\(event)")
        let plain = try await sysadm.nextJSON()
        #expect(plain == ["namespace": "events", "name": "test.fanout", "id": "",
                          "args": ["msg": "changed", "collection": "test.fanout", "id": 0, "fields": ["n": 0, "pad": "xxx"]]], "\(plain)")
        await freenas.close()
        await sysadm.close()
        await root.close()
        await daemon.stop()

        let configured = try await TestDaemon.start { $0.envelopeEvents = .freenas }
        await (try configured.client(as: "admin", roles: [Role.fullAdmin])).close()
        target = configured.tcp
        target.path = "/socket"
        let ws = try await WebSocketConnection.connect(to: target)
        let answer = try await login(ws)
        #expect(answer["args"]?.arrayValue?.count == 3 && answer["args"]?[2] == "admin", "\(answer)")
        try await ws.send(#"{"namespace":"events","name":"subscribe","id":"s","args":["test.fanout"]}"#)
        _ = try await ws.nextJSON()
        let admin = try await configured.rootClient()
        _ = try await admin.call("test.emit", [1, 1])
        #expect(try await ws.nextJSON()["name"] == "event")
        await ws.close()
        await admin.close()
        await configured.stop()
    }
}
