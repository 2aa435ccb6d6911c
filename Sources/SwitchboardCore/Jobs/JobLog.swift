import Foundation

/// A job's log file under `<state>/jobs/<id>.log`, and the excerpt kept with the job.
final class JobLog: Sendable {
    let path: String
    private let handle: FileHandle?

    init(directory: String, id: Int64) {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        path = Self.path(directory: directory, id: id)
        FileManager.default.createFile(atPath: path, contents: nil)
        handle = FileHandle(forWritingAtPath: path)
    }

    static func path(directory: String, id: Int64) -> String {
        (directory as NSString).appendingPathComponent("\(id).log")
    }

    func write(_ bytes: [UInt8]) {
        handle?.write(Data(bytes))
    }

    func close() {
        try? handle?.close()
    }

    /// The first and last 10 lines, with "... N more lines ..." between when there are more.
    static func excerpt(path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        if lines.count <= 20 { return lines.joined(separator: "\n") }
        let more = lines.count - 20
        return (lines.prefix(10) + ["... \(more) more lines ..."] + lines.suffix(10)).joined(separator: "\n")
    }
}
