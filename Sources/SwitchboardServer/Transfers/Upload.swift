import SwitchboardCore
import SwitchboardWire

/// One upload's parts, in the order `POST /_upload` requires: `data` (`{"method", "params"}`, JSON within the
/// message size limit), then `file` parts. The job starts when the first file part begins, as middlewared
/// starts it, so a refused call (rights, parameters, a method that takes no upload) costs no file bytes.
/// Not `Sendable`: the upload's task owns it.
final class Upload {
    let route: UploadRoute
    let session: Session
    private var data: [UInt8]?
    private var call: (method: String, params: [JSON])?
    private var input: JobInput?
    private var file: JobPipe?
    private(set) var job: Int64?
    /// The job closed its input (EPIPE): it read what it wanted, or failed; its own state says which.
    private(set) var jobStoppedReading = false

    init(route: UploadRoute, session: Session) {
        self.route = route
        self.session = session
    }

    func handle(_ event: UploadParts.Event) async throws(CallError) {
        switch event {
        case .part(let name, _):
            if call == nil {
                guard data == nil, name == "data" else { throw CallError(Errno.EINVAL, "The \"data\" part must come first") }
                data = []
            } else {
                guard name == "file" else { throw CallError(Errno.EINVAL, "Unknown part \"\(name ?? "")\": after \"data\" only \"file\" parts") }
                try await beginFile()
            }
        case .body(let bytes):
            if let file {
                do {
                    try await file.write(bytes)
                } catch let error as CallError {
                    if error.errno == Errno.EPIPE { jobStoppedReading = true }
                    throw error
                } catch {
                    throw CallError(Errno.ECANCELED, "Upload cancelled")
                }
            } else if data != nil {
                data? += bytes
                if (data?.count ?? 0) > route.exchange.maxBodySize {
                    throw CallError(Errno.E2BIG, "The \"data\" part is larger than \(route.exchange.maxBodySize) bytes")
                }
            }
        case .end:
            if let file {
                file.finish()
                self.file = nil
            } else if let bytes = data, call == nil {
                call = try Self.parseCall(bytes)
                data = nil
            }
        }
    }

    private func beginFile() async throws(CallError) {
        if input == nil, let call {
            let input = JobInput()
            let answer = await SessionCalls.perform(route.runtime, session: session, method: call.method, params: call.params,
                                                    pipes: JobPipes(input: input))
            guard let id = try answer.get().intValue else { throw CallError.internalError("\(call.method) answered no job id") }
            self.input = input
            job = id
        }
        do {
            file = try input?.addFile()
        } catch {
            if error.errno == Errno.EPIPE { jobStoppedReading = true }
            throw error
        }
    }

    /// The body ended after its last part: the job's input is complete.
    /// - Returns: the job id.
    func finish() throws(CallError) -> Int64 {
        guard call != nil || data != nil else { throw CallError(Errno.EINVAL, "No \"data\" part: nothing to call") }
        guard let job, let input else { throw CallError(Errno.EINVAL, "No \"file\" part after \"data\"") }
        input.finish()
        return job
    }

    /// The upload broke: the job's current file and its input end with `error`.
    func fail(_ error: CallError) {
        file?.fail(error)
        input?.fail(error)
    }

    /// `{"method": "...", "params": [...]}`.
    static func parseCall(_ bytes: [UInt8]) throws(CallError) -> (method: String, params: [JSON]) {
        let json: JSON
        do {
            json = try JSON.parse(bytes: bytes)
        } catch {
            throw CallError(Errno.EINVAL, "The \"data\" part is not JSON: \(error)")
        }
        guard let method = json["method"]?.stringValue, !method.isEmpty else {
            throw CallError.validation("data.method", "Required: the job method to call")
        }
        let params: [JSON]
        switch json["params"] {
        case nil, .null?: params = []
        case .array(let list)?: params = list
        default: throw CallError.validation("data.params", "Must be an array of arguments")
        }
        return (method, params)
    }
}
