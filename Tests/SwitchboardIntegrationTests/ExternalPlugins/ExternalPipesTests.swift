import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore

/// A Python plugin's tasks read an upload and write a download (`pipes`), through `POST /_upload`, `core.download`
/// and curl, the bytes crossing the plugin's line protocol in base64 pieces.
@Suite(.serialized) struct ExternalPipesTests {
    @Test func pythonTasksReadUploadsAndWriteDownloads() async throws {
        let h = try await ExternalPluginHarness.start(["Transfers.py"])
        try await h.waitFor("Transfers", "running")
        await (try h.daemon.client(as: "admin", roles: [Role.fullAdmin])).close()
        let methods = try await h.root.call("core.get_methods")
        #expect(methods["transfers.store"]?["uploadable"] == true && methods["transfers.serve"]?["downloadable"] == true, "\(methods["transfers.store"] ?? nil)")

        let folder = h.daemon.stateDir
        var generator = SystemRandomNumberGenerator()
        let original = Data((0..<(3 << 20) + 12345).map { _ in UInt8.random(in: 0...255, using: &generator) })
        #expect(FileManager.default.createFile(atPath: folder + "/in.bin", contents: original))
        let upload = try await FileTransferTests.curl([
            "-u", "admin:pa55word",
            "-F", "data={\"method\": \"transfers.store\", \"params\": [\"\(folder)/stored.bin\"]}",
            "-F", "file=@\(folder)/in.bin", "http://127.0.0.1:\(h.daemon.port)/_upload",
        ])
        let id = try #require(try JSON.parse(upload.stdout)["job_id"]?.intValue, "\(upload.stdout) \(upload.stderr)")
        let stored = try await h.root.call("core.job_wait", [.int(id)])
        #expect(stored["bytes"] == .int(Int64(original.count)) && stored["more_files"] == false, "\(stored)")
        #expect(FileManager.default.contents(atPath: folder + "/stored.bin") == original)

        let answer = try await h.root.call(MethodName.download, ["transfers.serve", [.string(folder + "/stored.bin")], "served.bin"])
        let url = try #require(answer[1]?.stringValue)
        let download = try await FileTransferTests.curl(["-o", folder + "/served.bin", "http://127.0.0.1:\(h.daemon.port)\(url)"])
        #expect(download.status == 0, "\(download.stderr)")
        #expect(FileManager.default.contents(atPath: folder + "/served.bin") == original)
        #expect(try await h.root.call("core.job_wait", [answer[0] ?? nil]) == true)

        // A task that declared no pipes is told so, a declaration naming an unknown pipe is refused, and a plain call of a piped task is refused before the plugin.
        let refusals = try await h.root.call("core.job_wait", [try await h.root.call("transfers.misuse")])
        #expect(refusals[0]?.stringValue?.contains("has no upload file open") == true, "\(refusals)")
        #expect(refusals[1]?.stringValue?.contains("writes no download: declare \"pipes\": [\"output\"]") == true, "\(refusals)")
        #expect(refusals[2]?.stringValue?.contains("methods.transfers.bad.job.pipes: unknown pipe sideways (known: input, output)") == true, "\(refusals)")
        let plain = await ExternalPluginHarness.failure { try await h.root.call("transfers.store", [.string(folder + "/x.bin")]) }
        #expect(plain?.reason.contains("send it to POST /_upload") == true, "\(String(describing: plain))")
        await h.stop()
    }
}
