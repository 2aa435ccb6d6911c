import Foundation
import SwitchboardCore

/// A job's upload and download over the line protocol, for a job method declared with `"pipes"`: the plugin asks
/// for each piece (`job.input.next_file`, `job.input.read`) and hands each piece over (`job.output.write`), in
/// base64, and every request is answered only once the pipe has moved its bytes. So the plugin reads no faster than
/// the client sends and writes no faster than the client takes, and at most one piece per request is in flight:
/// the daemon holds no more than the pipes' own bound whatever the plugin does.
extension ExternalPlugin {
    static let pipeRequests: Set<String> = ["job.input.next_file", "job.input.read", "job.output.write"]

    /// The most a `job.output.write` may carry, decoded: a piece, not a file.
    static let maxPipeWrite = 1 << 20

    func pipeRequest(_ id: JSON, _ method: String, _ params: JSON, _ incarnation: PluginIncarnation) {
        let link = incarnation.link
        // A request about a job that has ended (or is not this plugin's) is answered, not punished: the job may
        // have been aborted while the plugin was sending.
        guard let jobID = params["job"]?.intValue, let job = state.withLock({ $0.jobs[jobID] }) else {
            link.send(.error(id: id, CallError(Errno.ENOENT, "\(method): job \(params["job"] ?? .null) of plugin \(name) is not running")))
            return
        }
        guard admitRequest("job pipe", incarnation) else { return }
        Task {
            defer { state.withLock { $0.callbacks -= 1 } }
            do {
                link.send(.result(id: id, try await movePiece(method, params, job: job)))
            } catch let error as CallError {
                link.send(.error(id: id, error))
            } catch {
                link.send(.error(id: id, CallError(Errno.EIO, "\(error)")))
            }
        }
    }

    private func movePiece(_ method: String, _ params: JSON, job: JobContext) async throws -> JSON {
        switch method {
        case "job.input.next_file":
            guard let input = job.input else { throw CallError(Errno.EINVAL, "job \(job.id) reads no upload: declare \"pipes\": [\"input\"]") }
            let file = try await input.nextFile()
            state.withLock { $0.inputFiles[job.id] = file }
            return .bool(file != nil)
        case "job.input.read":
            guard let file = state.withLock({ $0.inputFiles[job.id] }) else {
                throw CallError(Errno.EINVAL, "job \(job.id) has no upload file open: call job.input.next_file first")
            }
            guard let chunk = try await file.read() else { return .null }
            return .string(Data(chunk).base64EncodedString())
        default:
            guard let output = job.output else { throw CallError(Errno.EINVAL, "job \(job.id) writes no download: declare \"pipes\": [\"output\"]") }
            guard let text = params["data"]?.stringValue, let data = Data(base64Encoded: text) else {
                throw CallError.validation("job.output.write.data", "must be base64")
            }
            guard data.count <= Self.maxPipeWrite else {
                throw CallError.validation("job.output.write.data", "must decode to at most \(Self.maxPipeWrite) bytes; write a file in pieces")
            }
            try await output.write([UInt8](data))
            return true
        }
    }
}
