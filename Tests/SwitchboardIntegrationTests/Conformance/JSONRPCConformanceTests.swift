import Testing
import SwitchboardClient
import SwitchboardCore

/// JSON-RPC 2.0 as middlewared 25.04+ speaks it on `/api/current` and `/api/v1`, frame by frame.
@Suite(.serialized) struct JSONRPCConformanceTests {
    static func login(_ user: String) -> [FrameStep] {
        [.send(#"{"jsonrpc":"2.0","id":"login","method":"auth.login","params":["\#(user)","pa55word"]}"#),
         .expect(#"{"jsonrpc":"2.0","id":"login","result":true}"#)]
    }

    static let table: [FrameCase] = [
        FrameCase("ids keep their JSON type; notifications get no reply", [
            .send(#"{"jsonrpc":"2.0","id":7,"method":"core.ping"}"#),
            .expect(#"{"jsonrpc":"2.0","id":7,"result":"pong"}"#),
            .send(#"{"jsonrpc":"2.0","id":"seven","method":"core.ping","params":[]}"#),
            .expect(#"{"jsonrpc":"2.0","id":"seven","result":"pong"}"#),
            .send(#"{"jsonrpc":"2.0","method":"core.ping","params":[]}"#),
            .send(#"{"jsonrpc":"2.0","id":8,"method":"core.ping"}"#),
            .expect(#"{"jsonrpc":"2.0","id":8,"result":"pong"}"#),
        ]),
        FrameCase("unknown method", [
            .send(#"{"jsonrpc":"2.0","id":1,"method":"nope.nothing","params":[]}"#),
            .expect(#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method does not exist","data":{"error":201,"errname":"ENOMETHOD","reason":"Method nope.nothing not found","trace":null,"extra":null}}}"#),
        ]),
        FrameCase("auth refusals", [
            .send(#"{"jsonrpc":"2.0","id":1,"method":"user.query","params":[]}"#),
            .expect(#"{"jsonrpc":"2.0","id":1,"error":{"code":-32001,"message":"Method call error","data":{"error":207,"errname":"ENOTAUTHENTICATED","reason":"Not authenticated","trace":null,"extra":null}}}"#),
            .send(#"{"jsonrpc":"2.0","id":2,"method":"auth.login","params":["admin","wrong"]}"#),
            .expect(#"{"jsonrpc":"2.0","id":2,"result":false}"#),
        ] + login("reader") + [
            .send(#"{"jsonrpc":"2.0","id":3,"method":"dispatcher.run","params":[{"x":"true"}]}"#),
            .expect(#"{"jsonrpc":"2.0","id":3,"error":{"code":-32001,"message":"Method call error","data":{"error":13,"errname":"EACCES","reason":"Not authorized","trace":null,"extra":null}}}"#),
        ]),
        FrameCase("validation errors", login("admin") + [
            .send(#"{"jsonrpc":"2.0","id":1,"method":"test.sleep","params":["soon"]}"#),
            .expect(#"{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"Invalid params","data":{"error":22,"errname":"EINVAL","reason":"[EINVAL] milliseconds: Input should be a valid integer","trace":null,"extra":[["milliseconds","Input should be a valid integer",22]]}}}"#),
            .send(#"{"jsonrpc":"2.0","id":2,"method":"test.sleep","params":[1,2]}"#),
            .expect(#"{"jsonrpc":"2.0","id":2,"error":{"code":-32602,"message":"Invalid params","data":{"error":22,"errname":"EINVAL","reason":"Too many arguments (expected 1, found 2)","trace":null,"extra":[]}}}"#),
        ]),
        FrameCase("malformed JSON and wrong types in every field keep the connection", [
            .send("not json"),
            .expect(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error","data":{"error":22,"errname":"EINVAL","reason":"<string>","trace":null,"extra":null}}}"#),
            .send("[]"),
            .expect(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error","data":{"error":22,"errname":"EINVAL","reason":"Batch requests are not supported","trace":null,"extra":null}}}"#),
            .send("5"),
            .expect(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request","data":{"error":22,"errname":"EINVAL","reason":"A request must be a JSON object","trace":null,"extra":null}}}"#),
            .send(#"{"jsonrpc":"1.0","id":1,"method":"core.ping"}"#),
            .expect(#"{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"Invalid Request","data":{"error":22,"errname":"EINVAL","reason":"jsonrpc must be \"2.0\"","trace":null,"extra":null}}}"#),
            .send(#"{"jsonrpc":"2.0","id":{"a":1},"method":"core.ping"}"#),
            .expect(#"{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request","data":{"error":22,"errname":"EINVAL","reason":"id must be an integer or a string","trace":null,"extra":null}}}"#),
            .send(#"{"jsonrpc":"2.0","id":3,"method":5}"#),
            .expect(#"{"jsonrpc":"2.0","id":3,"error":{"code":-32600,"message":"Invalid Request","data":{"error":22,"errname":"EINVAL","reason":"method must be a non-empty string","trace":null,"extra":null}}}"#),
            .send(#"{"jsonrpc":"2.0","id":4,"method":"core.ping","params":"x"}"#),
            .expect(#"{"jsonrpc":"2.0","id":4,"error":{"code":-32602,"message":"Invalid params","data":{"error":22,"errname":"EINVAL","reason":"params must be an array","trace":null,"extra":[]}}}"#),
            .sendBinary(Array(#"{"jsonrpc":"2.0","id":5,"method":"core.ping"}"#.utf8)),
            .expect(#"{"jsonrpc":"2.0","id":5,"result":"pong"}"#),
        ]),
        FrameCase("subscriptions", login("admin") + [
            .send(#"{"jsonrpc":"2.0","id":1,"method":"core.subscribe","params":["test.fanout"]}"#),
            .expect(#"{"jsonrpc":"2.0","id":1,"result":"<string:sub>"}"#),
            .send(#"{"jsonrpc":"2.0","id":2,"method":"test.emit","params":[2]}"#),
            .expectAnyOrder([
                #"{"jsonrpc":"2.0","id":2,"result":true}"#,
                #"{"jsonrpc":"2.0","method":"collection_update","params":{"msg":"changed","collection":"test.fanout","id":0,"fields":{"n":0,"pad":"xxxxxxxxxx"}}}"#,
                #"{"jsonrpc":"2.0","method":"collection_update","params":{"msg":"changed","collection":"test.fanout","id":1,"fields":{"n":1,"pad":"xxxxxxxxxx"}}}"#,
            ]),
            .send(#"{"jsonrpc":"2.0","id":3,"method":"core.unsubscribe","params":["$sub"]}"#),
            .expect(#"{"jsonrpc":"2.0","id":3,"result":null}"#),
            .send(#"{"jsonrpc":"2.0","id":4,"method":"test.emit","params":[1]}"#),
            .expect(#"{"jsonrpc":"2.0","id":4,"result":true}"#),
            .send(#"{"jsonrpc":"2.0","id":5,"method":"core.subscribe","params":["nope.event"]}"#),
            .expect(#"{"jsonrpc":"2.0","id":5,"error":{"code":-32001,"message":"Method call error","data":{"error":2,"errname":"ENOENT","reason":"No event named nope.event","trace":null,"extra":null}}}"#),
        ]),
        FrameCase("a job runs to SUCCESS with its progress as events", login("admin") + [
            .send(#"{"jsonrpc":"2.0","id":1,"method":"core.subscribe","params":["core.get_jobs"]}"#),
            .expect(#"{"jsonrpc":"2.0","id":1,"result":"<string>"}"#),
            .send(#"{"jsonrpc":"2.0","id":2,"method":"test.job","params":[3,150]}"#),
            .collect([
                #"{"jsonrpc":"2.0","id":2,"result":"<int:job>"}"#,
                #"{"jsonrpc":"2.0","method":"collection_update","params":{"msg":"added","collection":"core.get_jobs","id":"<int>","fields":{"<more>":true,"method":"test.job","state":"<string>"}}}"#,
            ]),
            .skipUntil(#"{"jsonrpc":"2.0","method":"collection_update","params":{"msg":"changed","collection":"core.get_jobs","id":"$job","fields":{"<more>":true,"progress":{"percent":66,"description":"step 2","extra":null}}}}"#),
            .skipUntil(#"{"jsonrpc":"2.0","method":"collection_update","params":{"msg":"changed","collection":"core.get_jobs","id":"$job","fields":{"<more>":true,"state":"SUCCESS","result":{"steps":3}}}}"#),
            .send(#"{"jsonrpc":"2.0","id":3,"method":"core.job_wait","params":["$job"]}"#),
            .expect(#"{"jsonrpc":"2.0","id":3,"result":{"steps":3}}"#),
        ]),
        FrameCase("sysadm dispatcher as methods", login("admin") + [
            .send(#"{"jsonrpc":"2.0","id":1,"method":"dispatcher.run","params":[{"queue":"iocage_queue","jsonrpc-sleep":"sleep 5"}]}"#),
            .expect(#"{"jsonrpc":"2.0","id":1,"result":{"started":["jsonrpc-sleep"],"job_ids":{"jsonrpc-sleep":"<int>"}}}"#),
            .send(#"{"jsonrpc":"2.0","id":2,"method":"dispatcher.list"}"#),
            .expect(#"{"jsonrpc":"2.0","id":2,"result":{"jobs":{"iocage_queue":{"jsonrpc-sleep":{"commands":["sleep 5"],"queue_position":"0","state":"<string>"}}}}}"#),
            .send(#"{"jsonrpc":"2.0","id":3,"method":"dispatcher.kill","params":[{"job_id":["jsonrpc-sleep"]}]}"#),
            .expect(#"{"jsonrpc":"2.0","id":3,"result":{"killed":{"jobs":["jsonrpc-sleep"]}}}"#),
        ]),
    ]

    @Test(arguments: ["/api/current", "/api/v1"]) func everyRowOfTheSpec(path: String) async throws {
        try await FrameScript.runTableOnFreshDaemon(Self.table, path: path)
    }
}
