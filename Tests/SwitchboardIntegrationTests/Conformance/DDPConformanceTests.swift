import Testing
import SwitchboardClient
import SwitchboardCore

/// The DDP-style dialect of middlewared 24.x on `/websocket` (seed 001), frame by frame.
@Suite(.serialized) struct DDPConformanceTests {
    static let connect: [FrameStep] = [
        .send(#"{"msg":"connect","version":"1","support":["1"]}"#),
        .expect(#"{"msg":"connected","session":"<uuid>"}"#),
    ]
    static func login(_ user: String) -> [FrameStep] {
        connect + [.send(#"{"msg":"method","id":"login","method":"auth.login","params":["\#(user)","pa55word"]}"#),
                   .expect(#"{"id":"login","msg":"result","result":true}"#)]
    }

    static let table: [FrameCase] = [
        FrameCase("the handshake comes first; anything else fails", [
            .send(#"{"msg":"method","id":"1","method":"core.ping","params":[]}"#),
            .expect(#"{"msg":"failed","version":"1"}"#),
            .send(#"{"msg":"connect","version":"2","support":["2"]}"#),
            .expect(#"{"msg":"failed","version":"1"}"#),
            .send("not json"),
            .expect(#"{"msg":"failed","version":"1"}"#),
        ] + connect + [
            .send(#"{"msg":"connect","version":"1","support":["1"]}"#),
            .expect(#"{"msg":"error","reason":"Already connected"}"#),
        ]),
        FrameCase("ids keep their JSON type; ping and pong", connect + [
            .send(#"{"msg":"method","id":"a1","method":"core.ping","params":[]}"#),
            .expect(#"{"id":"a1","msg":"result","result":"pong"}"#),
            .send(#"{"msg":"method","id":7,"method":"core.ping"}"#),
            .expect(#"{"id":7,"msg":"result","result":"pong"}"#),
            .send(#"{"msg":"ping","id":"p"}"#),
            .expect(#"{"msg":"pong","id":"p"}"#),
            .send(#"{"msg":"ping"}"#),
            .expect(#"{"msg":"pong"}"#),
        ]),
        FrameCase("unknown method and auth refusals", connect + [
            .send(#"{"msg":"method","id":"u","method":"nope.nothing","params":[]}"#),
            .expect(#"{"id":"u","msg":"result","error":{"error":201,"errname":"ENOMETHOD","type":null,"reason":"Method nope.nothing not found","trace":null,"extra":null}}"#),
            .send(#"{"msg":"method","id":"q","method":"user.query","params":[]}"#),
            .expect(#"{"id":"q","msg":"result","error":{"error":207,"errname":"ENOTAUTHENTICATED","type":null,"reason":"Not authenticated","trace":null,"extra":null}}"#),
            .send(#"{"msg":"method","id":"r","method":"auth.login","params":["reader","pa55word"]}"#),
            .expect(#"{"id":"r","msg":"result","result":true}"#),
            .send(#"{"msg":"method","id":"d","method":"dispatcher.run","params":[{"x":"true"}]}"#),
            .expect(#"{"id":"d","msg":"result","error":{"error":13,"errname":"EACCES","type":null,"reason":"Not authorized","trace":null,"extra":null}}"#),
        ]),
        FrameCase("validation errors are EAGAIN with type VALIDATION", login("admin") + [
            .send(#"{"msg":"method","id":"v","method":"test.sleep","params":["soon"]}"#),
            .expect(#"{"id":"v","msg":"result","error":{"error":11,"errname":"EAGAIN","type":"VALIDATION","reason":"[EINVAL] milliseconds: Input should be a valid integer","trace":null,"extra":[["milliseconds","Input should be a valid integer",22]]}}"#),
        ]),
        FrameCase("malformed JSON and wrong types in every field keep the connection", connect + [
            .send("not json"),
            .expect(#"{"msg":"error","reason":"<string>"}"#),
            .send(#"{"msg":5}"#),
            .expect(#"{"msg":"error","reason":"msg must be a string"}"#),
            .send(#"{"msg":"warp"}"#),
            .expect(#"{"msg":"error","reason":"Unknown message warp"}"#),
            .send(#"{"msg":"method","id":{"a":1},"method":"core.ping"}"#),
            .expect(#"{"id":{"a":1},"msg":"result","error":{"error":22,"errname":"EINVAL","type":null,"reason":"id must be a string or an integer","trace":null,"extra":null}}"#),
            .send(#"{"msg":"method","id":"m","method":5}"#),
            .expect(#"{"id":"m","msg":"result","error":{"error":22,"errname":"EINVAL","type":null,"reason":"method must be a non-empty string","trace":null,"extra":null}}"#),
            .send(#"{"msg":"method","id":"p","method":"core.ping","params":{}}"#),
            .expect(#"{"id":"p","msg":"result","error":{"error":22,"errname":"EINVAL","type":null,"reason":"params must be an array","trace":null,"extra":null}}"#),
            .send(#"{"msg":"sub","id":"s","name":5}"#),
            .expect(#"{"id":"s","msg":"result","error":{"error":22,"errname":"EINVAL","type":null,"reason":"name must be a non-empty string","trace":null,"extra":null}}"#),
            .sendBinary(Array(#"{"msg":"method","id":"b","method":"core.ping"}"#.utf8)),
            .expect(#"{"id":"b","msg":"result","result":"pong"}"#),
        ]),
        FrameCase("sub, ready, added before changed, unsub, nosub", login("admin") + [
            .send(#"{"msg":"sub","id":"s1","name":"test.fanout","params":[]}"#),
            .expect(#"{"msg":"ready","subs":["s1"]}"#),
            .send(#"{"msg":"method","id":"e","method":"test.emit","params":[1]}"#),
            .expectAnyOrder([
                #"{"id":"e","msg":"result","result":true}"#,
                #"{"msg":"added","collection":"test.fanout","id":0,"fields":{"n":0,"pad":"xxxxxxxxxx"}}"#,
            ]),
            .send(#"{"msg":"method","id":"e2","method":"test.emit","params":[1]}"#),
            .expectAnyOrder([
                #"{"id":"e2","msg":"result","result":true}"#,
                #"{"msg":"changed","collection":"test.fanout","id":0,"fields":{"n":0,"pad":"xxxxxxxxxx"}}"#,
            ]),
            .send(#"{"msg":"unsub","id":"s1"}"#),
            .expect(#"{"msg":"nosub","id":"s1","collection":"","error":null}"#),
            .send(#"{"msg":"sub","id":"s2","name":"nope.event"}"#),
            .expect(#"{"msg":"nosub","id":"s2","collection":"nope.event","error":{"error":2,"errname":"ENOENT","type":null,"reason":"No event named nope.event","trace":null,"extra":null}}"#),
        ]),
        FrameCase("a job returns its id and its progress arrives on core.get_jobs", login("admin") + [
            .send(#"{"msg":"sub","id":"jobs","name":"core.get_jobs"}"#),
            .expect(#"{"msg":"ready","subs":["jobs"]}"#),
            .send(#"{"msg":"method","id":"j","method":"test.job","params":[3,150]}"#),
            .collect([
                #"{"id":"j","msg":"result","result":"<int:job>"}"#,
                #"{"msg":"added","collection":"core.get_jobs","id":"<int>","fields":{"<more>":true,"method":"test.job","state":"<string>"}}"#,
            ]),
            .skipUntil(#"{"msg":"changed","collection":"core.get_jobs","id":"$job","fields":{"<more>":true,"progress":{"percent":66,"description":"step 2","extra":null}}}"#),
            .skipUntil(#"{"msg":"changed","collection":"core.get_jobs","id":"$job","fields":{"<more>":true,"state":"SUCCESS","result":{"steps":3}}}"#),
        ]),
        FrameCase("sysadm dispatcher as methods", login("admin") + [
            .send(#"{"msg":"method","id":"r","method":"dispatcher.run","params":[{"ddp-sleep":["sleep 5"]}]}"#),
            .expect(#"{"id":"r","msg":"result","result":{"started":["ddp-sleep"],"job_ids":{"ddp-sleep":"<int>"}}}"#),
            .send(#"{"msg":"method","id":"l","method":"dispatcher.list","params":[]}"#),
            .expect(#"{"id":"l","msg":"result","result":{"jobs":{"no_queue":{"ddp-sleep":{"commands":["sleep 5"],"queue_position":"0","state":"<string>"}}}}}"#),
            .send(#"{"msg":"method","id":"k","method":"dispatcher.kill","params":[{"job_id":"ddp-sleep"}]}"#),
            .expect(#"{"id":"k","msg":"result","result":{"killed":{"jobs":["ddp-sleep"]}}}"#),
        ]),
    ]

    @Test func everyRowOfTheSpec() async throws {
        try await FrameScript.runTableOnFreshDaemon(Self.table, path: "/websocket")
    }
}
