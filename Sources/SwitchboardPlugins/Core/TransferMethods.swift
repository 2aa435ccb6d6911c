import SwitchboardCore

/// `core.download`: a job's output as a file fetched over HTTP (middlewared's file transfer). Uploads need no
/// method: `POST /_upload` names the job method in its `data` part.
enum TransferMethods {
    /// A download's file name, as its `Content-Disposition` carries it: no folder, no control character, no quote.
    static let filenameSchema: JSON = ["type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^/\\u0000-\\u001f\"\\\\]+$"]

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
            ],
            returns: ["type": "array", "prefixItems": [["type": "integer"], ["type": "string"]], "items": false],
            roles: [Role.authenticated]
        ) { ctx, args in
            let method = args[0].stringValue ?? ""
            let (job, url) = try await ctx.offerDownload(method, args[1].arrayValue ?? [], filename: args[2].stringValue ?? "")
            return [.int(job), .string(url)]
        })
    }
}
