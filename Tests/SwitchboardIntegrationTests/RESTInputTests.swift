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
}
