import Foundation

/// Why the daemon cannot start, in an operator's words: what it tried, on which path, and the system's reason
/// (not a Foundation error's dump). The binary prints it on one line and exits 1.
public struct StartError: Error, Sendable, CustomStringConvertible {
    public var description: String

    /// The state folder, created if missing.
    static func createStateFolder(_ path: String) throws(StartError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            // Foundation's error names no system reason here; the system call itself does.
            let why = mkdir(path, 0o755) == 0 ? reason(error) : String(cString: strerror(errno))
            throw StartError(description: "cannot create the state folder \(path): \(why) (--state-dir, SWITCHBOARD_STATE_DIR)")
        }
    }

    /// The folder the local socket goes into must exist: the listener would otherwise fail with the TCP
    /// address in its words, naming the wrong thing.
    static func checkSocketFolder(_ socketPath: String) throws(StartError) {
        let folder = (socketPath as NSString).deletingLastPathComponent
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.isEmpty ? "." : folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw StartError(description: "cannot create the local socket \(socketPath): the folder \(folder) does not exist (dispatcher.unix-socket, --socket)")
        }
    }

    /// The POSIX reason under a Foundation file error, else its description.
    static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))) }
        return nsError.localizedDescription
    }
}
