import ArgumentParser
import Foundation
import SwitchboardCore

/// `switchboard-bench echo-plugin`: a minimal external plugin (protocol 1 on fd 3, no SDK) that answers
/// `bench_echo.ping` with "pong" as fast as one thread can. The `plugin` scenario calls it to measure what
/// forwarding costs the daemon with a peer that is never the bottleneck, apart from the Python host's speed.
struct EchoPluginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo-plugin", abstract: "A minimal external plugin for the plugin scenario.", shouldDisplay: false)

    func run() throws {
        let hello: JSON = ["jsonrpc": "2.0", "id": 1, "method": "plugin.hello", "params": [
            "protocol": 1, "name": "bench_echo",
            "methods": [["name": "bench_echo.ping", "roles": ["READONLY_ADMIN"], "flags": ["readonly"]]],
        ]]
        try write(hello.encodedBytes() + [10])
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(3, $0.baseAddress, $0.count) }
            if count <= 0 { return }
            pending += buffer[0..<count]
            var out: [UInt8] = []
            var start = 0
            while let newline = pending[start...].firstIndex(of: 10) {
                let message = try JSON.parse(bytes: pending[start..<newline])
                start = newline + 1
                if message["id"] == 1, message["result"] != nil {
                    let ready: JSON = ["jsonrpc": "2.0", "id": 2, "method": "plugin.ready", "params": [:]]
                    out += ready.encodedBytes() + [10]
                } else if message["method"] == "method.call", let id = message["id"] {
                    let reply: JSON = ["jsonrpc": "2.0", "id": id, "result": "pong"]
                    out += reply.encodedBytes() + [10]
                }
            }
            pending.removeFirst(start)
            if !out.isEmpty { try write(out) }
        }
    }

    private func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return Foundation.write(3, base + offset, buffer.count - offset)
            }
            if written <= 0 { throw ExitCode(1) }
            offset += written
        }
    }
}
