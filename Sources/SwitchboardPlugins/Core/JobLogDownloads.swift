import SwitchboardCore

/// middlewared's `core.job_download_logs(id, filename)`: a single-use URL that downloads a job's log, for jobs
/// the caller may see. The bytes come from a job of its own (`core.job_log_download`), as every download does,
/// so the URL's expiry, the transfer limits and the stall timeout apply to it as to `core.download`.
enum JobLogDownloads {
    static let offer = "core.job_download_logs"
    static let stream = "core.job_log_download"

    static func register(in context: PluginContext) throws {
        try context.register(MethodDescriptor(
            offer,
            description: "A URL (relative to this listener) that downloads the log of a job you may see, once, within the "
                + "configured expiry (300 s by default). ENOENT when the job has no log.",
            params: [Parameter("id", schema: ["type": "integer"]), Parameter("filename", schema: TransferMethods.filenameSchema),
                     TransferMethods.buffered],
            returns: ["type": "string"], roles: [Role.authenticated]
        ) { ctx, args in
            try TransferMethods.refuseBuffered(args[2])
            let id = args[0].intValue ?? 0
            _ = try await logPath(context, id, ctx.credentials)
            return .string(try await ctx.offerDownload(stream, [.int(id)], filename: args[1].stringValue ?? "").url)
        })

        try context.register(MethodDescriptor.job(
            stream,
            description: "Streams the log of a job you may see, as far as it is written, as a download: call it through "
                + "core.job_download_logs (or core.download).",
            params: [Parameter("id", schema: ["type": "integer"])],
            returns: ["type": "boolean"], roles: [Role.authenticated], flags: .readonly,
            options: JobOptions(abortable: true, description: { args in "Downloading the log of job \(args.first?.intValue ?? 0)" }, pipes: .output)
        ) { job, args in
            guard let output = job.output else { throw CallError(Errno.EINVAL, "\(stream) writes a download: call core.job_download_logs") }
            let path = try await logPath(context, args[0].intValue ?? 0, job.call.credentials)
            let source = try FileSource(path: path)
            defer { source.close() }
            try await source.stream(to: output)
            return true
        })
    }

    /// The log of a job the caller may see: ENOENT for a job it may not see or one without a log.
    static func logPath(_ context: PluginContext, _ id: Int64, _ credentials: Credentials?) async throws -> String {
        let record = try await context.jobs.record(id, credentials: credentials)
        guard let path = record.logsPath else { throw CallError(Errno.ENOENT, "Job \(id) has no log") }
        return path
    }
}
