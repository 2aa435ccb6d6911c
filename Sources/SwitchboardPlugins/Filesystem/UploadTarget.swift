import Foundation
import SwitchboardCore

/// Where `filesystem.put` writes: a hidden file beside the target, renamed over it by `commit()`, so readers see
/// the old file or the whole new one, and a failed upload leaves nothing behind (`discard()` removes it). With
/// `append` the target itself is written, and `discard()` cuts it back to its size before the upload.
final class UploadTarget {
    let path: String
    let temporary: String?
    let originalSize: off_t
    let mode: mode_t
    private var descriptor: Int32

    /// - Throws: ENOENT when the folder does not exist, EINVAL when the path is a folder, EACCES, or the error of
    ///   `open(2)` with its path.
    init(path: String, append: Bool, mode: mode_t) throws(CallError) {
        self.path = path
        self.mode = mode
        var info = stat()
        let exists = stat(path, &info) == 0
        if exists, (info.st_mode & S_IFMT) == S_IFDIR { throw CallError(Errno.EINVAL, "\(path) is a folder") }
        let folder = (path as NSString).deletingLastPathComponent
        var folderInfo = stat()
        guard stat(folder, &folderInfo) == 0, (folderInfo.st_mode & S_IFMT) == S_IFDIR else {
            throw CallError(Errno.ENOENT, "Folder \(folder) does not exist")
        }
        if append {
            temporary = nil
            originalSize = exists ? info.st_size : 0
            descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, mode)
        } else {
            let name = (path as NSString).lastPathComponent
            let hidden = (folder as NSString).appendingPathComponent(".\(name).upload-\(UInt32.random(in: 0...UInt32.max))")
            temporary = hidden
            originalSize = 0
            descriptor = open(hidden, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        }
        guard descriptor >= 0 else { throw Self.failure("open", temporary ?? path) }
    }

    deinit {
        if descriptor >= 0 { Foundation.close(descriptor) }
    }

    func write(_ bytes: [UInt8]) throws(CallError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Foundation.write(descriptor, base + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw Self.failure("write", temporary ?? path)
            }
            offset += written
        }
    }

    /// The upload is whole: on disk (fsync), with its mode, under its name.
    func commit() throws(CallError) {
        guard fsync(descriptor) == 0 else { throw Self.failure("fsync", temporary ?? path) }
        Foundation.close(descriptor)
        descriptor = -1
        guard let temporary else { return }
        guard chmod(temporary, mode) == 0 else { throw Self.failure("chmod", temporary) }
        guard rename(temporary, path) == 0 else { throw Self.failure("rename", path) }
    }

    /// The upload failed: nothing of it stays.
    func discard() {
        if let temporary {
            if descriptor >= 0 { Foundation.close(descriptor) }
            descriptor = -1
            unlink(temporary)
        } else if descriptor >= 0 {
            _ = ftruncate(descriptor, originalSize)
            Foundation.close(descriptor)
            descriptor = -1
        }
    }

    static func failure(_ call: String, _ path: String) -> CallError {
        let code = errno
        let reason = "\(call) \(path): \(String(cString: strerror(code)))"
        switch code {
        case ENOENT: return CallError(Errno.ENOENT, reason)
        case EACCES, EPERM: return CallError(Errno.EACCES, reason)
        case ENOSPC: return CallError(Errno.ENOSPC, reason)
        case EISDIR, ENOTDIR: return CallError(Errno.EINVAL, reason)
        default: return CallError(Errno.EIO, reason)
        }
    }
}
