import Foundation
import Testing
import SwitchboardCore

/// One request of a REST conformance case and the answer it must get.
struct RESTStep: Sendable {
    enum Auth: Sendable {
        case none
        case basic(String, String)
        /// `Bearer <value>`, captured `$names` substituted.
        case bearer(String)
    }

    var method: String
    var path: String
    var auth: Auth
    var body: String?
    var status: Int
    var pattern: String
    /// Repeat the request (at most 100 times, 50 ms apart) until the answer matches: for a job to end.
    var poll = false
    /// Header names and values the answer must carry.
    var headers: [String: String] = [:]
}

/// REST (middlewared `/api/v2.0` and sysadm `PUT /<namespace>/<name>`), request by request: statuses, bodies,
/// and the errno, reason and validation triples of errors.
@Suite(.serialized) struct RESTConformanceTests {
    static let admin = RESTStep.Auth.basic("admin", "pa55word")
    static let reader = RESTStep.Auth.basic("reader", "pa55word")

    static func step(_ method: String, _ path: String, as auth: RESTStep.Auth = admin, body: String? = nil, _ status: Int, _ pattern: String,
                     poll: Bool = false, headers: [String: String] = [:]) -> RESTStep {
        RESTStep(method: method, path: path, auth: auth, body: body, status: status, pattern: pattern, poll: poll, headers: headers)
    }

    static let table: [(String, [RESTStep])] = [
        ("methods without arguments are GET and need no login when the method does not", [
            step("GET", "/api/v2.0/core/ping", as: .none, 200, #""pong""#),
            step("GET", "/api/v2.0/system/info", as: .none, 401, #"{"errno":207,"errname":"ENOTAUTHENTICATED","reason":"Not authenticated","extra":null}"#,
                 headers: ["www-authenticate": #"Basic realm="Switchboard", charset="UTF-8""#]),
            step("GET", "/api/v2.0/system/info", 200, #"{"<more>":true,"hostname":"<string>"}"#),
        ]),
        ("credentials are checked", [
            step("GET", "/api/v2.0/auth/me", as: .basic("admin", "wrong"), 401, #"{"errno":207,"errname":"ENOTAUTHENTICATED","reason":"Authentication failed","extra":null}"#),
            step("GET", "/api/v2.0/auth/me", as: .bearer("not-a-token"), 401, #"{"errno":207,"errname":"ENOTAUTHENTICATED","reason":"Invalid token","extra":null}"#),
            step("POST", "/api/v2.0/auth/generate_token", body: "[600]", 200, #""<string:token>""#),
            step("GET", "/api/v2.0/auth/me", as: .bearer("$token"), 200, #"{"<more>":true,"pw_name":"admin"}"#),
            // Tokens refused tell why: one used up, one expired, one from another address (the local socket's).
            step("POST", "/api/v2.0/auth/generate_token", body: #"{"ttl":600,"single_use":true}"#, 200, #""<string:once>""#),
            step("GET", "/api/v2.0/auth/me", as: .bearer("$once"), 200, #"{"<more>":true,"pw_name":"admin"}"#),
            step("GET", "/api/v2.0/auth/me", as: .bearer("$once"), 401, #"{"errno":207,"errname":"ENOTAUTHENTICATED","reason":"Token already used","extra":null}"#),
            step("POST", "/api/v2.0/auth/generate_token", body: #"{"ttl":1}"#, 200, #""<string:short>""#),
            step("POST", "/api/v2.0/test/sleep", body: "1100", 200, "true"),
            step("GET", "/api/v2.0/auth/me", as: .bearer("$short"), 401, #"{"errno":207,"errname":"ENOTAUTHENTICATED","reason":"Token expired","extra":null}"#),
        ]),
        ("CRUD: query with filters and options, create, get, update, delete", [
            step("GET", "/api/v2.0/user?username=admin", 200, #"[{"<more>":true,"id":"<int>","username":"admin"}]"#),
            step("GET", "/api/v2.0/user?username__regex=^rea&limit=1&sort=-id", 200, #"[{"<more>":true,"username":"reader"}]"#),
            step("GET", "/api/v2.0/user?count=true", 200, #""<int>""#),
            step("POST", "/api/v2.0/user", body: #"{"username":"rest1","password":"pa55word","full_name":"Rest One"}"#, 200,
                 #"{"<more>":true,"id":"<int:uid>","username":"rest1","full_name":"Rest One"}"#),
            step("GET", "/api/v2.0/user/id/$uid", 200, #"{"<more>":true,"id":"$uid","username":"rest1"}"#),
            step("PUT", "/api/v2.0/user/id/$uid", body: #"{"full_name":"Rest Renamed"}"#, 200, #"{"<more>":true,"id":"$uid","full_name":"Rest Renamed"}"#),
            step("POST", "/api/v2.0/user", body: #"{"username":"rest1","password":"pa55word"}"#, 409,
                 #"{"errno":22,"errname":"EINVAL","reason":"<string>","extra":[["user_create.username","<string>",17]]}"#),
            step("DELETE", "/api/v2.0/user/id/$uid", 200, #""<any>""#),
            step("GET", "/api/v2.0/user/id/$uid", 404, #"{"errno":2,"errname":"ENOENT","reason":"<string>","extra":null}"#),
        ]),
        ("validation errors are 422 with their triples", [
            step("POST", "/api/v2.0/test/sleep", body: #""soon""#, 422,
                 #"{"errno":22,"errname":"EINVAL","reason":"[EINVAL] milliseconds: Input should be a valid integer","extra":[["milliseconds","Input should be a valid integer",22]]}"#),
            step("POST", "/api/v2.0/user", body: #"{"username":"9bad","password":"pa55word"}"#, 422,
                 #"{"errno":22,"errname":"EINVAL","reason":"<string>","extra":[["user_create.username","<string>",22]]}"#),
            step("POST", "/api/v2.0/test/sleep", body: "1", 200, "true"),
        ]),
        ("bad requests", [
            step("POST", "/api/v2.0/test/sleep", body: "{not json", 400, #"{"errno":22,"errname":"EINVAL","reason":"<string>","extra":null}"#),
            step("GET", "/api/v2.0/nope/nothing", 404, #"{"errno":2,"errname":"ENOENT","reason":"No API endpoint /nope/nothing","extra":null}"#),
            step("DELETE", "/api/v2.0/user", 405, #"{"errno":95,"errname":"ENOTSUP","reason":"DELETE is not allowed on /user; use GET, POST","extra":null}"#,
                 headers: ["allow": "GET, POST"]),
            step("POST", "/api/v2.0/core/get_jobs", body: "[]", 405, #"{"errno":95,"errname":"ENOTSUP","reason":"POST is not allowed on /core/get_jobs; use GET","extra":null}"#, headers: ["allow": "GET"]),
        ]),
        ("roles: a read-only user reads but does not write", [
            step("GET", "/api/v2.0/user?username=reader", as: reader, 200, #"[{"<more>":true,"username":"reader"}]"#),
            step("POST", "/api/v2.0/user", as: reader, body: #"{"username":"nope","password":"pa55word"}"#, 403,
                 #"{"errno":13,"errname":"EACCES","reason":"Not authorized","extra":null}"#),
            step("POST", "/api/v2.0/dispatcher/run", as: reader, body: #"{"x":"true"}"#, 403, #"{"errno":13,"errname":"EACCES","reason":"Not authorized","extra":null}"#),
        ]),
        ("a job returns its id and runs to SUCCESS", [
            step("POST", "/api/v2.0/test/job", body: "[2,5]", 200, #""<int:job>""#),
            step("GET", "/api/v2.0/core/get_jobs?id=$job", 200,
                 #"[{"<more>":true,"id":"$job","state":"SUCCESS","progress":{"percent":100,"description":"step 2","extra":null},"result":{"steps":2}}]"#, poll: true),
            step("POST", "/api/v2.0/core/job_wait", body: "$job", 200, #"{"steps":2}"#),
        ]),
        ("a full lock queue is 429", [
            // The first holds its lock until the test opens its gate, however slow the machine.
            step("POST", "/api/v2.0/test/exclusive", body: #""rest-held""#, 200, #""<int>""#),
            step("POST", "/api/v2.0/test/exclusive", body: #""rest-held""#, 429, #"{"errno":16,"errname":"EBUSY","reason":"<string>","extra":null}"#),
            step("POST", "/api/v2.0/test/open", body: #""rest-held""#, 200, "true"),
        ]),
        ("sysadm REST: the same envelope as over WebSocket", [
            step("PUT", "/rpc/identify", as: .none, 200, #"{"namespace":"rpc","name":"response","id":"","args":{"type":"server","hostname":"<string>"}}"#),
            step("PUT", "/rpc/dispatcher", as: .none, body: #"{"action":"list"}"#, 401, #"{"namespace":"rpc","name":"error","id":"","args":{"code":207,"message":"Not authenticated"}}"#),
            step("PUT", "/rpc/dispatcher", body: #"{"action":"run","rest-sleep":"sleep 300"}"#, 200, #"{"namespace":"rpc","name":"response","id":"","args":{"started":["rest-sleep"],"job_ids":{"rest-sleep":"<int>"}}}"#),
            step("PUT", "/rpc/dispatcher", body: #"{"action":"list"}"#, 200,
                 #"{"namespace":"rpc","name":"response","id":"","args":{"jobs":{"no_queue":{"rest-sleep":{"commands":["sleep 300"],"queue_position":"0","state":"<string>"}}}}}"#),
            step("POST", "/rpc/dispatcher", body: #"{"action":"kill","job_id":"rest-sleep"}"#, 200, #"{"namespace":"rpc","name":"response","id":"","args":{"killed":{"jobs":["rest-sleep"]}}}"#),
            step("PUT", "/rpc/call", body: #"{"method":"test.sleep","args":["soon"]}"#, 422,
                 #"{"namespace":"rpc","name":"error","id":"","args":{"code":22,"message":"<string>","extra":[["milliseconds","<string>",22]]}}"#),
            step("PUT", "/events/subscribe", body: #""test.fanout""#, 400, #"{"namespace":"rpc","name":"error","id":"","args":{"code":95,"message":"<string>"}}"#),
            step("PUT", "/nope/thing", body: "{}", 404, #"{"namespace":"rpc","name":"error","id":"","args":{"code":201,"message":"Method nope/thing does not exist"}}"#),
        ]),
        ("the OpenAPI document and the API reference are served", [
            step("GET", "/api/v2.0/openapi.json", as: .none, 200, #"{"<more>":true,"openapi":"3.1.0","paths":"<object>"}"#),
        ]),
    ]

    @Test func everyRowOfTheTable() async throws {
        let daemon = try await TestDaemon.start()
        await (try daemon.client(as: "admin", roles: [Role.fullAdmin])).close()
        await (try daemon.client(as: "reader", roles: [Role.readonlyAdmin])).close()
        let base = "http://127.0.0.1:\(daemon.port)"
        for (name, steps) in Self.table {
            let captures = Captures()
            do {
                for (index, step) in steps.enumerated() {
                    try await Self.run(step, base: base, captures: captures, at: "\(name), step \(index + 1)")
                }
            } catch {
                Issue.record("\(error)")
            }
        }
        let docs = try await HTTPExchange.send("GET", base + "/api/docs")
        #expect(docs.status == 200 && docs.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(docs.text.contains("<code>user.create</code>") && docs.text.contains("core.get_jobs") && docs.text.contains("Example, REST"))
        await daemon.stop()
    }

    static func run(_ step: RESTStep, base: String, captures: Captures, at: String) async throws {
        var headers: [String: String] = [:]
        switch step.auth {
        case .none: break
        case .basic(let user, let password): headers = HTTPExchange.basic(user, password)
        case .bearer(let value): headers["Authorization"] = "Bearer " + captures.substitute(value)
        }
        let url = base + captures.substitute(step.path)
        for attempt in 1...(step.poll ? 600 : 1) {
            let answer = try await HTTPExchange.send(step.method, url, headers: headers, body: step.body.map(captures.substitute))
            let pattern = try FrameScript.parse(captures.substitute(step.pattern), at)
            var problem: String?
            if answer.status != step.status {
                problem = "status \(answer.status), expected \(step.status): \(answer.text)"
            } else if let json = answer.json {
                problem = FramePattern.mismatch(pattern, json, captures: captures)
            } else {
                problem = "not JSON: \(answer.text)"
            }
            for (name, value) in step.headers where answer.headers[name] != value {
                problem = problem ?? "header \(name): \(answer.headers[name] ?? "missing"), expected \(value)"
            }
            guard let problem else { return }
            // Polled steps wait up to 30 s for the state (a bound on a hang, not a timing bet).
            if attempt == (step.poll ? 600 : 1) { throw ScriptFailure(description: "\(at) (\(step.method) \(url)): \(problem)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
