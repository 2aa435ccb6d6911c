import Foundation
import SwitchboardCore

/// `filesystem.put(path, options)` (reads `POST /_upload`'s file) and `filesystem.get(path)` (written to a
/// `core.download` URL).
enum FilesystemMethods {
    static let put = "filesystem.put"
    static let get = "filesystem.get"
    /// Progress is reported every this many bytes.
    static let progressStep: Int64 = 64 << 20

    static func register(in context: PluginContext) throws {
        try context.register(MethodDescriptor.job(
            put,
            description: "Writes the uploaded file to path (absolute; its folder must exist). The file appears whole or not at "
                + "all: it is written beside its target and renamed over it once complete. With append, the upload is added "
                + "to the end, and cut off again if the upload fails. mode sets the permissions (default 0644). Uploads to one "
                + "path run one at a time: another one while the first runs is refused (EBUSY), never interleaved.",
            params: [
                Parameter("path", schema: ["type": "string", "minLength": 1]),
                Parameter("options", schema: [
                    "type": "object", "additionalProperties": false,
                    "properties": ["append": ["type": "boolean"], "mode": ["type": "integer", "minimum": 0, "maximum": 0o7777]],
                ], default: [:]),
            ],
            returns: ["type": "boolean"],
            options: JobOptions(lock: { args in args.first?.stringValue.map { put + ":" + ($0 as NSString).standardizingPath } },
                                abortable: true, description: { args in "Uploading \(args.first?.stringValue ?? "")" }, pipes: .input)
        ) { job, args in
            let path = try absolutePath(args[0].stringValue ?? "")
            let options = args[1].objectValue ?? [:]
            guard let input = job.input, let file = try await input.nextFile() else {
                throw CallError(Errno.EINVAL, "No file was uploaded")
            }
            let target = try UploadTarget(path: path, append: options["append"]?.boolValue ?? false,
                                          mode: mode_t(options["mode"]?.intValue ?? 0o644))
            do {
                var written: Int64 = 0
                var reported: Int64 = 0
                while let chunk = try await file.read() {
                    try target.write(chunk)
                    written += Int64(chunk.count)
                    if written - reported >= progressStep {
                        reported = written
                        await job.setProgress(nil, "\(written) bytes written")
                    }
                }
                if try await input.nextFile() != nil {
                    throw CallError(Errno.EINVAL, "\(put) takes one file; the upload had more")
                }
                try target.commit()
                await job.setProgress(100, "\(written) bytes written")
            } catch {
                target.discard()
                throw error
            }
            return true
        })

        try context.register(MethodDescriptor.job(
            get,
            description: "Streams the file at path (absolute) as a download: call it through core.download.",
            params: [Parameter("path", schema: ["type": "string", "minLength": 1])],
            returns: ["type": "boolean"], flags: .readonly,
            options: JobOptions(abortable: true, description: { args in "Downloading \(args.first?.stringValue ?? "")" }, pipes: .output)
        ) { job, args in
            let path = try absolutePath(args[0].stringValue ?? "")
            guard let output = job.output else { throw CallError(Errno.EINVAL, "\(get) writes a download: call it through core.download") }
            let source = try FileSource(path: path)
            defer { source.close() }
            try await source.stream(to: output)
            return true
        })
    }

    /// - Throws: EINVAL for a relative path or one with a NUL.
    static func absolutePath(_ path: String) throws(CallError) -> String {
        guard path.hasPrefix("/"), !path.contains("\u{0}") else {
            throw CallError.validation("path", "Must be an absolute path")
        }
        return path
    }
}
