import SwitchboardCore

/// `core.download`: a job's output as a file fetched over HTTP (middlewared's file transfer). Uploads need no
/// method: `POST /_upload` names the job method in its `data` part.
enum TransferMethods {
    /// A download's file name, as its `Content-Disposition` carries it: no folder, no control character, no quote.
    static let filenameSchema: JSON = ["type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^/\\u0000-\\u001f\"\\\\]+$"]
    /// middlewared's last parameter of its download methods. Taken so that its clients' calls work as written.
    static let buffered = Parameter("buffered", schema: ["type": "boolean"], default: false)

    /// `buffered: true` asks middlewared to run the job to its end into a temporary file before the download
    /// starts. Switchboard streams every download while its job runs and keeps no temporary file (one with no
    /// bound but the disk would be the only unbounded buffer of a transfer), so it says so rather than pretend.
    static func refuseBuffered(_ value: JSON) throws(CallError) {
        guard value == true else { return }
        throw CallError(Errno.ENOTSUP, "Buffered downloads are not supported: the download streams while its job runs "
                        + "(fetch the URL and the job writes as you read); call without buffered, or with false")
    }

    static func register(in context: PluginContext) throws {
        try context.register(MethodDescriptor(
            MethodName.download,
            description: "Starts a job method that writes a download (core.get_methods says downloadable) with your rights, and "
                + "returns [job_id, url]: GET the URL (relative to this listener) once, within the configured expiry (300 s by "
                + "default), to stream what the job writes. The job waits for the client, and fails if nobody fetches in time.",
            params: [
                Parameter("method", schema: ["type": "string", "minLength": 1]),
                Parameter("args", schema: ["type": "array"]),
                Parameter("filename", schema: filenameSchema),
                buffered,
            ],
            returns: ["type": "array", "prefixItems": [["type": "integer"], ["type": "string"]], "items": false],
            roles: [Role.authenticated]
        ) { ctx, args in
            try refuseBuffered(args[3])
            let method = args[0].stringValue ?? ""
            let (job, url) = try await ctx.offerDownload(method, args[1].arrayValue ?? [], filename: args[2].stringValue ?? "")
            return [.int(job), .string(url)]
        })
    }
}
