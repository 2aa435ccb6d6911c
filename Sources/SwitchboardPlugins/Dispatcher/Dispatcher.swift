import Synchronization
import SwitchboardCore

/// The dispatcher's work: checking and starting command jobs, listing and killing them by client id.
struct Dispatcher: Sendable {
    let jobs: PluginJobs
    let runner: ProcessRunner
    let queues: Set<String>
    let book = Book()

    /// The dispatcher jobs still known by their client-given id.
    final class Book: Sendable {
        struct Entry: Sendable {
            var queue: String
            var commands: [JSON]
            var jobID: Int64
            var submitted: Int
        }

        private let entries = Mutex<[String: Entry]>([:])
        private let counter = Mutex(0)

        func reserve(_ name: String, queue: String, commands: [JSON]) -> Bool {
            let order = counter.withLock { value -> Int in
                value += 1
                return value
            }
            return entries.withLock { entries in
                if entries[name] != nil { return false }
                entries[name] = Entry(queue: queue, commands: commands, jobID: 0, submitted: order)
                return true
            }
        }

        func assign(_ name: String, jobID: Int64) { entries.withLock { $0[name]?.jobID = jobID } }
        func remove(_ name: String) { entries.withLock { _ = $0.removeValue(forKey: name) } }
        var all: [String: Entry] { entries.withLock { $0 } }
        func entry(_ name: String) -> Entry? { entries.withLock { $0[name] } }
    }

    func run(_ ctx: CallContext, _ argument: JSON) async throws -> JSON {
        var object = argument.objectValue ?? [:]
        if let action = object.removeValue(forKey: "action"), action != "run" {
            throw CallError.validation("args.action", "dispatcher.run takes action \"run\" or none")
        }
        let queue = object.removeValue(forKey: "queue")?.stringValue ?? DispatcherPlugin.parallelQueue
        guard queues.contains(queue) else {
            throw CallError.validation("args.queue", "Unknown queue '\(queue)'; known: \(queues.sorted().joined(separator: ", "))")
        }
        guard !object.isEmpty else { throw CallError.validation("args", "No job given: add \"<job id>\": \"<command>\"") }
        // Check every command before starting any, so a bad request starts nothing.
        var requested: [(String, [JSON])] = []
        for (name, value) in object {
            let commands = value.arrayValue ?? [value]
            guard !commands.isEmpty else { throw CallError.validation("args.\(name)", "No command given") }
            for (index, command) in commands.enumerated() {
                do {
                    _ = try runner.argv(command)
                } catch {
                    throw CallError.validation("args.\(name).\(index)", error.reason)
                }
            }
            requested.append((name, commands))
        }
        var started: [JSON] = []
        var ids = JSONObject()
        for (name, commands) in requested {
            guard book.reserve(name, queue: queue, commands: commands) else {
                throw CallError.validation("args.\(name)", "A job with this id is already pending or running", errno: Errno.EEXIST)
            }
            let lockName: String? = queue == DispatcherPlugin.parallelQueue ? nil : "dispatcher:\(queue)"
            let description = "dispatcher job \(name)"
            let options = JobOptions(lock: { _ in lockName }, abortable: true, description: { _ in description }, logs: true)
            do {
                let id = try await jobs.submit(
                    method: MethodName.dispatcherRun, arguments: [["queue": .string(queue), "id": .string(name), "commands": .array(commands)]],
                    options: options, context: ctx, body: processJob(name, commands))
                book.assign(name, jobID: id)
                ids[name] = .int(id)
            } catch {
                book.remove(name)
                throw error
            }
            started.append(.string(name))
        }
        // sysadm answers with the names; the numeric ids are what `switchboard jobs wait` and core.job_wait take.
        return ["started": .array(started), "job_ids": .object(ids)]
    }

    /// Runs the commands in order, stopping at the first non-zero exit; the result keeps every exit code.
    func processJob(_ name: String, _ commands: [JSON]) -> JobHandler {
        let runner = self.runner
        let book = self.book
        return { job, _ in
            defer { book.remove(name) }
            var exitCodes: [JSON] = []
            for (index, command) in commands.enumerated() {
                try Task.checkCancellation()
                let argv = try runner.argv(command)
                await job.log("$ \(argv.joined(separator: " "))")
                let status = try await runner.run(argv, job: job)
                exitCodes.append(.int(Int64(status)))
                // A command killed by an abort did not complete its step.
                try Task.checkCancellation()
                await job.setProgress((index + 1) * 100 / commands.count, "command \(index + 1) of \(commands.count) exited \(status)")
                if status != 0 {
                    throw CallError(Errno.EIO, "command \(index + 1) of \(commands.count) exited with status \(status): \(argv.joined(separator: " "))",
                                    extra: ["exit_codes": .array(exitCodes), "job_id": .string(name)])
                }
            }
            return ["job_id": .string(name), "exit_codes": .array(exitCodes)]
        }
    }

    func list() async -> JSON {
        var byQueue: [String: [(name: String, entry: Book.Entry, running: Bool)]] = [:]
        for (name, entry) in book.all where entry.jobID != 0 {
            guard let record = try? await jobs.record(entry.jobID, credentials: nil), !record.state.isFinished else { continue }
            byQueue[entry.queue, default: []].append((name, entry, record.state == .running))
        }
        var jobs = JSONObject()
        for (queue, entries) in byQueue.sorted(by: { $0.key < $1.key }) {
            var listing = JSONObject()
            let ordered = entries.sorted { ($0.running ? 0 : 1, $0.entry.submitted) < ($1.running ? 0 : 1, $1.entry.submitted) }
            for (position, item) in ordered.enumerated() {
                let queuePosition = queue == DispatcherPlugin.parallelQueue || item.running ? 0 : position
                listing[item.name] = ["commands": .array(item.entry.commands), "queue_position": .string(String(queuePosition)),
                                      "state": item.running ? "running" : "pending"]
            }
            jobs[queue] = .object(listing)
        }
        return ["jobs": .object(jobs)]
    }

    func kill(_ ctx: CallContext, _ argument: JSON) async throws -> JSON {
        let requested = argument["job_id"]?.arrayValue?.compactMap(\.stringValue) ?? [argument["job_id"]?.stringValue ?? ""]
        var killed: [JSON] = []
        for name in requested {
            guard let entry = book.entry(name), entry.jobID != 0 else { continue }
            // A job that ended on its own just before is not reported killed.
            if try await jobs.abort(entry.jobID, credentials: ctx.credentials) { killed.append(.string(name)) }
        }
        return ["killed": ["jobs": .array(killed)]]
    }
}
