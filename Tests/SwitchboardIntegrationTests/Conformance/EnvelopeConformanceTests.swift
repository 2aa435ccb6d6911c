import Testing
import SwitchboardClient
import SwitchboardCore

/// The envelope dialect (`/socket`, `/`; FreeNAS 10 dispatcher and sysadm), frame by frame as spec/protocols.md
/// gives it. Each row runs on its own connection of one daemon.
@Suite(.serialized) struct EnvelopeConformanceTests {
    static let login: [FrameStep] = [
        .send(#"{"namespace":"rpc","name":"auth","id":"login","args":{"username":"admin","password":"pa55word"}}"#),
        .expect(#"{"namespace":"rpc","name":"response","id":"login","args":["<string>",600]}"#),
    ]
    static let readerLogin: [FrameStep] = [
        .send(#"{"namespace":"rpc","name":"auth","id":"login","args":{"username":"reader","password":"pa55word"}}"#),
        .expect(#"{"namespace":"rpc","name":"response","id":"login","args":["<string>",600]}"#),
    ]

    static let table: [FrameCase] = [
        FrameCase("identify needs no login", [
            .send(#"{"namespace":"rpc","name":"identify","id":"i1","args":{}}"#),
            .expect(#"{"namespace":"rpc","name":"response","id":"i1","args":{"type":"server","hostname":"<string>"}}"#),
        ]),
        FrameCase("ids keep their JSON type", [
            .send(#"{"namespace":"rpc","name":"call","id":7,"args":{"method":"core.ping","args":[]}}"#),
            .expect(#"{"namespace":"rpc","name":"response","id":7,"args":"pong"}"#),
            .send(#"{"namespace":"rpc","name":"call","id":"seven","args":{"method":"core.ping"}}"#),
            .expect(#"{"namespace":"rpc","name":"response","id":"seven","args":"pong"}"#),
            .send(#"{"namespace":"rpc","name":"call","args":{"method":"core.ping"}}"#),
            .expect(#"{"namespace":"rpc","name":"response","id":null,"args":"pong"}"#),
        ]),
        FrameCase("calls before login are refused", [
            .send(#"{"namespace":"rpc","name":"call","id":"u","args":{"method":"user.query","args":[]}}"#),
            .expect(#"{"namespace":"rpc","name":"error","id":"u","args":{"code":207,"message":"Not authenticated"}}"#),
            .send(#"{"namespace":"events","name":"subscribe","id":"s","args":"test.fanout"}"#),
            .expect(#"{"namespace":"rpc","name":"error","id":"s","args":{"code":207,"message":"Not authenticated"}}"#),
        ]),
        FrameCase("a wrong password is refused", [
            .send(#"{"namespace":"rpc","name":"auth","id":"a","args":{"username":"admin","password":"wrong"}}"#),
            .expect(#"{"namespace":"rpc","name":"error","id":"a","args":{"code":207,"message":"Authentication failed"}}"#),
            .send(#"{"namespace":"rpc","name":"auth_token","id":"t","args":{"token":"no-such-token"}}"#),
            .expect(#"{"namespace":"rpc","name":"error","id":"t","args":{"code":207,"message":"Invalid token"}}"#),
        ]),
        FrameCase("auth, auth_clear and auth_token", [
            .send(#"{"namespace":"rpc","name":"auth","id":"a","args":{"username":"admin","password":"pa55word"}}"#),
            .expect(#"{"namespace":"rpc","name":"response","id":"a","args":["<string:token>",600]}"#),
            .send(#"{"namespace":"rpc","name":"call","id":"me","args":{"method":"auth.me"}}"#),
            .expect(#"{"namespace":"rpc","name":"response","id":"me","args":{"<more>":true,"pw_name":"admin"}}"#),
            .send(#"{"namespace":"rpc","name":"auth_clear","id":"c","args":{}}"#),
            .expect(#"{"namespace":"rpc","name":"response","id":"c","args":"SUCCESS"}"#),
            .send(#"{"namespace":"rpc","name":"call","id":"me2","args":{"method":"auth.me"}}"#),
            .expect(#"{"namespace":"rpc","name":"error","id":"me2","args":{"code":207,"message":"Not authenticated"}}"#),
            .send(#"{"namespace":"rpc","name":"auth_token","id":"t","args":{"token":"$token"}}"#),
            .expect(#"{"namespace":"rpc","name":"response","id":"t","args":["<string>",600]}"#),
            .send(#"{"namespace":"rpc","name":"call","id":"me3","args":{"method":"auth.me"}}"#),
            .expect(#"{"namespace":"rpc","name":"response","id":"me3","args":{"<more>":true,"pw_name":"admin"}}"#),
        ]),
        FrameCase("unknown methods", login + [
            .send(#"{"namespace":"rpc","name":"call","id":"n1","args":{"method":"nope.nothing","args":[]}}"#),
            .expect(#"{"namespace":"rpc","name":"error","id":"n1","args":{"code":201,"message":"Method nope.nothing not found"}}"#),
            .send(#"{"namespace":"nope","name":"thing","id":"n2","args":{}}"#),
            .expect(#"{"namespace":"rpc","name":"error","id":"n2","args":{"code":201,"message":"Method nope/thing does not exist"}}"#),
            .send(#"{"namespace":"rpc","name":"dispatcher","id":"n3","args":{"action":"explode"}}"#),
            .expect(#"{"namespace":"rpc","name":"error","id":"n3","args":{"code":201,"message":"rpc/dispatcher has no action 'explode'"}}"#),
        ]),
        FrameCase("validation errors carry [attribute, message, errno] triples", login + [
            .send(#"{"namespace":"rpc","name":"call","id":"v","args":{"method":"test.sleep","args":["soon"]}}"#),
            .expect(#"{"namespace":"rpc","name":"error","id":"v","args":{"code":22,"message":"[EINVAL] milliseconds: Input should be a valid integer","extra":[["milliseconds","Input should be a valid integer",22]]}}"#),
            .send(#"{"namespace":"rpc","name":"call","id":"v2","args":{"method":"test.sleep","args":{"milliseconds":-1}}}"#),
            .expect(#"{"namespace":"rpc","name":"error","id":"v2","args":{"code":22,"message":"<string>","extra":[["milliseconds","<string>",22]]}}"#),
            .send(#"{"namespace":"rpc","name":"call","id":"v3","args":{"method":"test.sleep","args":[1,2]}}"#),
            .expect(#"{"namespace":"rpc","name":"error","id":"v3","args":{"code":22,"message":"Too many arguments (expected 1, found 2)","extra":[]}}"#),
        ]),
        FrameCase("named arguments", login + [
            .send(#"{"namespace":"rpc","name":"call","id":"n","args":{"method":"test.sleep","args":{"milliseconds":1}}}"#),
            .expect(#"{"namespace":"rpc","name":"response","id":"n","args":true}"#),
            .send(#"{"namespace":"test","name":"echo","id":"e","args":{"anything":[1,"two"]}}"#),
            .expect(#"{"namespace":"rpc","name":"response","id":"e","args":{"anything":[1,"two"]}}"#),
        ]),
        FrameCase("wrong types in every field keep the connection", [
            .send(#"{"namespace":5,"name":"call","id":"w1","args":{}}"#),
            .expect(#"{"namespace":"rpc","name":"error","id":"w1","args":{"code":22,"message":"namespace must be a non-empty string"}}"#),
            .send(#"{"namespace":"rpc","name":[],"id":"w2","args":{}}"#),
            .expect(#"{"namespace":"rpc","name":"error","id":"w2","args":{"code":22,"message":"name must be a non-empty string"}}"#),
            .send(#"{"namespace":"rpc","name":"call","id":{"x":1},"args":{}}"#),
            .expect(#"{"namespace":"rpc","name":"error","id":null,"args":{"code":22,"message":"id must be a string or an integer"}}"#),
            .send(#"{"namespace":"rpc","name":"call","id":"w4","args":"core.ping"}"#),
            .expect(#"{"namespace":"rpc","name":"error","id":"w4","args":{"code":22,"message":"<string>","extra":[["args.method","<string>",22]]}}"#),
            .send(#"{"namespace":"rpc","name":"call","id":"w5","args":{"method":7}}"#),
            .expect(#"{"namespace":"rpc","name":"error","id":"w5","args":{"code":22,"message":"<string>","extra":[["args.method","<string>",22]]}}"#),
            .send(#"{"namespace":"rpc","name":"auth","id":"w6","args":{"username":1,"password":"x"}}"#),
            .expect(#"{"namespace":"rpc","name":"error","id":"w6","args":{"code":22,"message":"<string>","extra":[["args.username","A string is required",22]]}}"#),
            .send(#"{"namespace":"rpc","name":"identify","id":"alive","args":{}}"#),
            .expect(#"{"namespace":"rpc","name":"response","id":"alive","args":{"type":"server","hostname":"<string>"}}"#),
        ]),
        FrameCase("malformed JSON keeps the connection", [
            .send("not json"),
            .expect(#"{"namespace":"rpc","name":"error","id":null,"args":{"code":22,"message":"<string>"}}"#),
            .send("[1,2]"),
            .expect(#"{"namespace":"rpc","name":"error","id":null,"args":{"code":22,"message":"A message must be a JSON object"}}"#),
            .sendBinary(Array(#"{"namespace":"rpc","name":"identify","id":"b","args":{}}"#.utf8)),
            .expect(#"{"namespace":"rpc","name":"response","id":"b","args":{"type":"server","hostname":"<string>"}}"#),
        ]),
        FrameCase("events: subscribe, deliver, unsubscribe", login + [
            .send(#"{"namespace":"events","name":"subscribe","id":"e1","args":["test.fanout"]}"#),
            .expect(#"{"namespace":"events","name":"response","id":"e1","args":{"subscribe":["test.fanout"]}}"#),
            .send(#"{"namespace":"rpc","name":"call","id":"emit","args":{"method":"test.emit","args":[2]}}"#),
            .expectAnyOrder([
                #"{"namespace":"rpc","name":"response","id":"emit","args":true}"#,
                #"{"namespace":"events","name":"test.fanout","id":"","args":{"msg":"changed","collection":"test.fanout","id":0,"fields":{"n":0,"pad":"xxxxxxxxxx"}}}"#,
                #"{"namespace":"events","name":"test.fanout","id":"","args":{"msg":"changed","collection":"test.fanout","id":1,"fields":{"n":1,"pad":"xxxxxxxxxx"}}}"#,
            ]),
            .send(#"{"namespace":"events","name":"unsubscribe","id":"e2","args":"test.fanout"}"#),
            .expect(#"{"namespace":"events","name":"response","id":"e2","args":{"unsubscribe":["test.fanout"]}}"#),
            .send(#"{"namespace":"rpc","name":"call","id":"emit2","args":{"method":"test.emit","args":[1]}}"#),
            .expect(#"{"namespace":"rpc","name":"response","id":"emit2","args":true}"#),
            .send(#"{"namespace":"events","name":"subscribe","id":"e3","args":["test.*"]}"#),
            .expect(#"{"namespace":"events","name":"response","id":"e3","args":{"subscribe":["test.*"]}}"#),
            .send(#"{"namespace":"rpc","name":"call","id":"emit3","args":{"method":"test.emit","args":[1]}}"#),
            .expectAnyOrder([
                #"{"namespace":"rpc","name":"response","id":"emit3","args":true}"#,
                #"{"namespace":"events","name":"test.fanout","id":"","args":{"msg":"changed","collection":"test.fanout","id":0,"fields":{"n":0,"pad":"xxxxxxxxxx"}}}"#,
            ]),
        ]),
        FrameCase("subscription refusals", login + [
            .send(#"{"namespace":"events","name":"subscribe","id":"r1","args":"nope.event"}"#),
            .expect(#"{"namespace":"rpc","name":"error","id":"r1","args":{"code":2,"message":"No event named nope.event"}}"#),
            .send(#"{"namespace":"events","name":"subscribe","id":"r2","args":[]}"#),
            .expect(#"{"namespace":"rpc","name":"error","id":"r2","args":{"code":22,"message":"<string>","extra":[["args","<string>",22]]}}"#),
            .send(#"{"namespace":"events","name":"subscribe","id":"r3","args":["test.fanout",5]}"#),
            .expect(#"{"namespace":"rpc","name":"error","id":"r3","args":{"code":22,"message":"<string>","extra":[["args.1","<string>",22]]}}"#),
        ]),
        FrameCase("a job runs to SUCCESS with its progress as events", login + [
            .send(#"{"namespace":"events","name":"subscribe","id":"s","args":"core.get_jobs"}"#),
            .expect(#"{"namespace":"events","name":"response","id":"s","args":{"subscribe":["core.get_jobs"]}}"#),
            .send(#"{"namespace":"rpc","name":"call","id":"job","args":{"method":"test.job","args":[3,150]}}"#),
            .collect([
                #"{"namespace":"rpc","name":"response","id":"job","args":"<int:job>"}"#,
                #"{"namespace":"events","name":"core.get_jobs","id":"","args":{"msg":"added","collection":"core.get_jobs","id":"<int>","fields":{"<more>":true,"method":"test.job","state":"<string>"}}}"#,
            ]),
            .skipUntil(#"{"namespace":"events","name":"core.get_jobs","id":"","args":{"msg":"changed","collection":"core.get_jobs","id":"$job","fields":{"<more>":true,"progress":{"percent":66,"description":"step 2","extra":null}}}}"#),
            .skipUntil(#"{"namespace":"events","name":"core.get_jobs","id":"","args":{"msg":"changed","collection":"core.get_jobs","id":"$job","fields":{"<more>":true,"state":"SUCCESS","result":{"steps":3}}}}"#),
            .send(#"{"namespace":"rpc","name":"call","id":"q","args":{"method":"core.get_jobs","args":[[["id","=","$job"]]]}}"#),
            .expect(#"{"namespace":"rpc","name":"response","id":"q","args":[{"<more>":true,"id":"$job","method":"test.job","state":"SUCCESS","progress":{"percent":100,"description":"step 3","extra":null},"result":{"steps":3},"error":null}]}"#),
        ]),
        FrameCase("sysadm dispatcher: run, list, kill", login + [
            .send(#"{"namespace":"rpc","name":"dispatcher","id":"run","args":{"action":"run","queue":"pkg_queue","conformance-sleep":"sleep 5"}}"#),
            .expect(#"{"namespace":"rpc","name":"response","id":"run","args":{"started":["conformance-sleep"],"job_ids":{"conformance-sleep":"<int>"}}}"#),
            .send(#"{"namespace":"rpc","name":"dispatcher","id":"fooid","args":{"action":"list"}}"#),
            .expect(#"{"namespace":"rpc","name":"response","id":"fooid","args":{"jobs":{"pkg_queue":{"conformance-sleep":{"commands":["sleep 5"],"queue_position":"0","state":"<string>"}}}}}"#),
            .send(#"{"namespace":"rpc","name":"dispatcher","id":"kill","args":{"action":"kill","job_id":"conformance-sleep"}}"#),
            .expect(#"{"namespace":"rpc","name":"response","id":"kill","args":{"killed":{"jobs":["conformance-sleep"]}}}"#),
        ]),
        FrameCase("a read-only user may list but not run", readerLogin + [
            .send(#"{"namespace":"rpc","name":"dispatcher","id":"l","args":{"action":"list"}}"#),
            .expect(#"{"namespace":"rpc","name":"response","id":"l","args":{"<more>":true,"jobs":"<object>"}}"#),
            .send(#"{"namespace":"rpc","name":"dispatcher","id":"r","args":{"action":"run","x":"true"}}"#),
            .expect(#"{"namespace":"rpc","name":"error","id":"r","args":{"code":13,"message":"Not authorized"}}"#),
        ]),
    ]

    @Test(arguments: ["/socket", "/"]) func everyRowOfTheSpec(path: String) async throws {
        try await FrameScript.runTableOnFreshDaemon(Self.table, path: path)
    }
}
