import Foundation
import SwitchboardCore

/// A file a download streams, read in chunks: `filesystem.get`'s, and a job's log for `core.job_log_download`.
final class FileSource {
    private var descriptor: Int32
    let path: String

    /// - Throws: ENOENT, EACCES, or EINVAL for a folder.
    init(path: String) throws(CallError) {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw UploadTarget.failure("open", path) }
        var info = stat()
        if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            close()
            throw CallError(Errno.EINVAL, "\(path) is a folder")
        }
    }

    deinit { close() }

    /// The next chunk; nil at the end.
    func read(maxBytes: Int) throws(CallError) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: maxBytes)
        while true {
            let count = buffer.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, maxBytes) }
            if count < 0 {
                if errno == EINTR { continue }
                throw UploadTarget.failure("read", path)
            }
            if count == 0 { return nil }
            buffer.removeLast(maxBytes - count)
            return buffer
        }
    }

    /// Writes the whole file to a download, a chunk at a time, as fast as its client takes it.
    func stream(to output: JobPipe, chunk: Int = 1 << 16) async throws {
        while let piece = try read(maxBytes: chunk) {
            try await output.write(piece)
        }
    }

    func close() {
        if descriptor >= 0 { Foundation.close(descriptor) }
        descriptor = -1
    }
}
