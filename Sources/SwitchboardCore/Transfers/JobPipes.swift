/// The transfers attached to one call of a job method: the upload it reads (`POST /_upload`) and the download
/// it writes (`core.download`). Made by the transfer, carried by the call into the job's `JobContext`.
public struct JobPipes: Sendable {
    public var input: JobInput?
    public var output: JobPipe?

    public init(input: JobInput? = nil, output: JobPipe? = nil) {
        self.input = input
        self.output = output
    }

    /// Which transfers these are.
    public var kinds: JobPipeKinds {
        var kinds: JobPipeKinds = []
        if input != nil { kinds.insert(.input) }
        if output != nil { kinds.insert(.output) }
        return kinds
    }

    /// `body`, ending the download with its outcome: a client fetching the output of a job that failed sees the
    /// transfer broken (no last chunk), never a complete-looking truncated file.
    func ending(_ body: @escaping JobHandler) -> JobHandler {
        { [output] job, args in
            do {
                let result = try await body(job, args)
                output?.finish()
                return result
            } catch {
                output?.fail(error as? CallError ?? CallError(Errno.EIO, String(describing: error)))
                throw error
            }
        }
    }

    /// The job is over, its body run or not: a transfer still going stops with `reason` (the upload's sender
    /// gets EPIPE, the download's reader the failure). A download its body ended is left as it ended.
    func end(_ reason: String) {
        input?.close(reason)
        output?.fail(CallError(Errno.EPIPE, reason))
    }
}

/// The transfers a job method takes (`JobOptions.pipes`): it is called with exactly these, through
/// `POST /_upload` for `.input` and `core.download` for `.output`.
public struct JobPipeKinds: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Reads an upload: `JobContext.input`.
    public static let input = JobPipeKinds(rawValue: 1)
    /// Writes a download: `JobContext.output`.
    public static let output = JobPipeKinds(rawValue: 2)

    /// As `core.get_methods` shows it.
    public var names: [String] {
        (contains(.input) ? ["input"] : []) + (contains(.output) ? ["output"] : [])
    }
}

extension JobPipeKinds {
    /// A call carries exactly the transfers its method takes.
    /// - Throws: EINVAL naming the way to call it.
    static func check(offered: JobPipeKinds, taken: JobPipeKinds, method: String) throws(CallError) {
        if taken.contains(.input) && !offered.contains(.input) {
            throw CallError(Errno.EINVAL, "\(method) reads an upload: send it to POST /_upload with the file")
        }
        if taken.contains(.output) && !offered.contains(.output) {
            throw CallError(Errno.EINVAL, "\(method) writes a download: call core.download(\"\(method)\", args, filename)")
        }
        if offered.contains(.input) && !taken.contains(.input) {
            throw CallError(Errno.EINVAL, "\(method) does not accept an upload")
        }
        if offered.contains(.output) && !taken.contains(.output) {
            throw CallError(Errno.EINVAL, "\(method) does not make a download")
        }
    }
}
