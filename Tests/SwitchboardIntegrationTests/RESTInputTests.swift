import Foundation
import Testing
import SwitchboardCore

/// Bad REST input gets the documented status and reason (issue 16): malformed or unknown `Authorization`, a body
/// over `dispatcher.max-message-size`, a body that is not JSON.
@Suite(.serialized) struct RESTInputTests {
    @Test func badAuthorizationBodiesAndTheirAnswers() async throws {
        let daemon = try await TestDaemon.start { $0.maxMessageSize = 64 << 10 }
        await (try daemon.client(as: "admin", roles: [Role.fullAdmin])).close()
        let base = "http://127.0.0.1:\(daemon.port)/api/v2.0"

        let malformed = try await HTTPExchange.send("GET", base + "/auth/me", headers: ["Authorization": "Basic not*base64"])
        #expect(malformed.status == 401 && malformed.json?["reason"] == "Malformed Basic credentials", "\(malformed.text)")
        #expect(malformed.headers["www-authenticate"]?.hasPrefix("Basic") == true)
        let noColon = try await HTTPExchange.send("GET", base + "/auth/me", headers: ["Authorization": "Basic " + Data("admin".utf8).base64EncodedString()])
        #expect(noColon.status == 401 && noColon.json?["reason"] == "Malformed Basic credentials", "\(noColon.text)")
        let unknown = try await HTTPExchange.send("GET", base + "/auth/me", headers: ["Authorization": "Digest username=admin"])
        #expect(unknown.status == 401 && unknown.json?["reason"] == "Unsupported authorization scheme 'Digest'; use Basic or Bearer", "\(unknown.text)")
        let wrong = try await HTTPExchange.send("GET", base + "/auth/me", headers: HTTPExchange.basic("admin", "nope"))
        #expect(wrong.status == 401 && wrong.json?["reason"] == "Authentication failed", "\(wrong.text)")

        let auth = HTTPExchange.basic("admin", "pa55word")
        let big = String(repeating: "x", count: 70 << 10)
        let tooLarge = try await HTTPExchange.send("POST", base + "/user", headers: auth, body: #"{"username":"\#(big)"}"#)
        #expect(tooLarge.status == 413 && tooLarge.json?["reason"] == "Request body larger than 65536 bytes", "\(tooLarge.status) \(tooLarge.text.prefix(200))")
        let notJSON = try await HTTPExchange.send("POST", base + "/user", headers: auth, body: "{username: x}")
        #expect(notJSON.status == 400, "\(notJSON.status) \(notJSON.text)")
        #expect(notJSON.json?["reason"]?.stringValue?.hasPrefix("Invalid JSON body") == true, "\(notJSON.text)")
        // Within the limit, the same route works.
        let created = try await HTTPExchange.send("POST", base + "/user", headers: auth, body: #"{"username":"fine","password":"pw"}"#)
        #expect(created.status == 200, "\(created.text)")
        await daemon.stop()
    }

    /// The query string of a `GET` on a CRUD route, and the argument count of a body: each mistake is a 422 whose
    /// `extra` names the attribute, never a crash or a silently dropped argument.
    @Test func queryStringsAndArgumentCountsAreValidated() async throws {
        let daemon = try await TestDaemon.start()
        await (try daemon.client(as: "admin", roles: [Role.fullAdmin])).close()
        let base = "http://127.0.0.1:\(daemon.port)/api/v2.0"
        let auth = HTTPExchange.basic("admin", "pa55word")
        for (query, attribute, reason) in [
            ("limit=-1", "query.limit", "A non-negative integer is required"),
            ("offset=ten", "query.offset", "A non-negative integer is required"),
            ("__gt=1", "query.__gt", "A field name is required"),
        ] {
            let answer = try await HTTPExchange.send("GET", base + "/user?" + query, headers: auth)
            #expect(answer.status == 422, "\(query): \(answer.status) \(answer.text)")
            #expect(answer.json?["extra"]?[0]?[0] == .string(attribute) && answer.json?["extra"]?[0]?[1] == .string(reason), "\(query): \(answer.text)")
        }
        let badOperator = try await HTTPExchange.send("GET", base + "/user?username__near=x", headers: auth)
        #expect(badOperator.status == 422 && badOperator.json?["extra"]?[0]?[0] == "filters.0", "\(badOperator.text)")
        // Good ones still work, values typed as they look.
        let good = try await HTTPExchange.send("GET", base + "/user?username=admin&limit=1&sort=-id", headers: auth)
        #expect(good.status == 200 && good.json?[0]?["username"] == "admin", "\(good.text)")
        // test.job takes three arguments: four in a list are too many, an unknown name is refused.
        let tooMany = try await HTTPExchange.send("POST", base + "/test/job", headers: auth, body: "[1, 1, false, 7]")
        #expect(tooMany.status == 422, "\(tooMany.status) \(tooMany.text)")
        #expect(tooMany.json?["reason"]?.stringValue?.contains("Too many arguments") == true, "\(tooMany.text)")
        let unknownName = try await HTTPExchange.send("POST", base + "/test/job", headers: auth, body: #"{"steps": 1, "speed": 9}"#)
        #expect(unknownName.status == 422 && unknownName.json?["extra"]?[0]?[0] == "body", "\(unknownName.text)")
        #expect(unknownName.json?["extra"]?[0]?[1] == "test.job takes 3 arguments: send them as a JSON array, or an object naming them (steps, step_ms, fail)",
                "\(unknownName.text)")
        await daemon.stop()
    }
}
