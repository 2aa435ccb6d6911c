extension CallContext {
    /// Starts `method` (a job method that writes a download) with this session's rights and an output pipe,
    /// and hands out a single-use URL that streams what it writes (middlewared's `core.download`). The job
    /// writes as fast as the client fetches; nobody fetching within the configured expiry fails it.
    /// - Returns: the job id and the URL's path and query, relative to the listener the caller used.
    /// - Throws: what calling the method throws (EINVAL when it writes no download); EBUSY when too many URLs
    ///   wait to be fetched.
    public func offerDownload(_ method: String, _ params: [JSON], filename: String) async throws -> (job: Int64, url: String) {
        let pipe = JobPipe()
        let answer = try await runtime.call(method, params, session: session, returningJobID: true, fragments: nil,
                                            pipes: JobPipes(output: pipe))
        guard let job = answer.intValue else { throw CallError.internalError("\(method) answered no job id") }
        let token: String
        do {
            token = try runtime.transfers.issue(job: job, pipe: pipe, filename: filename)
        } catch {
            pipe.close(error.reason)
            throw error
        }
        return (job, "\(TransferPaths.download)/\(job)?auth_token=\(token)")
    }
}
