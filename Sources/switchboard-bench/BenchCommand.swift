import ArgumentParser
import Foundation
import SwitchboardCore

/// `switchboard-bench`: measures a daemon it starts itself (temporary state folder, its own port).
/// Build it with `swift build -c release`; figures from a debug build say nothing.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard-bench",
        abstract: "Load scenarios against a Switchboard daemon it starts: rpc (with baseline), fanout, jobs, conns, startup, plugin, cluster.",
        subcommands: [Run.self, BaselineServerCommand.self, EchoPluginCommand.self],
        defaultSubcommand: Run.self)

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "run", abstract: "Run scenarios and print a table (or --json).")

        @Argument(help: "Scenarios: rpc, baseline (with rpc), fanout, jobs, conns, startup, plugin, cluster (needs PostgreSQL), all (without cluster).")
        var scenarios: [String] = ["all"]

        @Option(help: "Seconds each load runs.") var seconds: Double = 5
        @Option(help: "rpc/jobs/plugin: connections.") var connections: Int = 8
        @Option(help: "rpc/jobs/plugin: requests in flight per connection.") var inFlight: Int = 32
        @Option(help: "fanout: subscribed connections.") var subscribers: Int = 1000
        @Option(help: "fanout: the emitter's calls in flight (on its one connection).") var emitters: Int = 24
        @Option(help: "fanout: events the emitter sends per second; 0 sends as fast as its calls in flight allow.") var rate: Double = 0
        @Option(help: "conns: idle connections per round.") var conns: Int = 10_000
        @Option(help: "conns: connect/disconnect rounds.") var rounds: Int = 10
        @Option(help: "startup: number of starts.") var starts: Int = 5
        @Option(help: "cluster: subscribed connections, spread over the two nodes that do not emit.") var clusterSubscribers: Int = 100
        @Option(help: "cluster: subscribed connections of its one-node fan-out, PostgreSQL beside SQLite.") var clusterFanoutSubscribers: Int = 200
        @Option(help: "cluster: a PostgreSQL DSN of a role that may create databases (else SWITCHBOARD_BENCH_POSTGRES or SWITCHBOARD_TEST_POSTGRES).")
        var postgres: String?
        @Option(help: "cluster: synchronous_commit of its databases (off: the durability of SQLite's WAL with synchronous = NORMAL); default: the server's.")
        var synchronousCommit: String?
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() async throws {
            let all = ["rpc", "fanout", "jobs", "conns", "startup", "plugin"]
            var wanted = scenarios.contains("all") ? all : scenarios
            if wanted.contains("baseline") && !wanted.contains("rpc") { wanted.append("rpc") }
            let known = Set(all + ["baseline", "cluster"])
            for name in wanted where !known.contains(name) { throw ValidationError("unknown scenario '\(name)'") }
            let duration = Duration.milliseconds(Int(seconds * 1000))
            var figures: [Figure] = []
            for name in wanted where name != "baseline" {
                switch name {
                case "rpc":
                    figures += try await Scenarios.rpc(connections: connections, inFlight: inFlight, duration: duration, withBaseline: true)
                    figures += try await Scenarios.rpc(connections: 1, inFlight: 1, duration: duration, withBaseline: true)
                case "fanout": figures += try await Scenarios.fanout(subscribers: subscribers, emitters: max(1, emitters), rate: max(0, rate), duration: duration)
                case "jobs": figures += try await Scenarios.jobs(connections: connections, inFlight: inFlight, duration: duration)
                case "conns": figures += try await Scenarios.conns(count: conns, rounds: rounds)
                case "plugin": figures += try await Scenarios.plugin(connections: connections, inFlight: inFlight, duration: duration)
                case "cluster":
                    figures += try await Scenarios.cluster(
                        postgres: try Scenarios.postgresDSN(postgres), subscribers: clusterSubscribers, emitters: max(1, emitters),
                        fanoutSubscribers: clusterFanoutSubscribers, connections: connections, inFlight: inFlight, duration: duration,
                        synchronousCommit: synchronousCommit)
                default: figures += try Scenarios.startup(starts: starts)
                }
            }
            if json {
                let array = JSON.array(figures.map { ["name": .string($0.name), "value": .double($0.value), "unit": .string($0.unit)] })
                print(array.encodedString(pretty: true))
            } else {
                let width = (figures.map(\.name.count).max() ?? 10) + 2
                for figure in figures {
                    let value = figure.value >= 100 ? String(format: "%.0f", figure.value) : String(format: "%.2f", figure.value)
                    print(figure.name.padding(toLength: width, withPad: " ", startingAt: 0) + value + " " + figure.unit)
                }
            }
        }
    }

    struct BaselineServerCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "baseline-server", abstract: "The bare Hummingbird JSON-RPC server `rpc` compares against.", shouldDisplay: false)

        @Option var port: Int

        func run() async throws {
            try await BaselineServer.run(port: port)
        }
    }
}
