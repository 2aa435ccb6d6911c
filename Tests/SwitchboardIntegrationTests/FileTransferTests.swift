import Foundation
import Testing
import SwitchboardClient
import SwitchboardCore

/// Issue 22, item 3: middlewared's file transfer against the real binary: `POST /_upload` and `core.download` +
/// `GET /_download`, with curl exactly as middlewared documents it, the CLI, a gigabyte each way, and the
/// transfers that go wrong (stalled, cut off, too large, refused, too many, never fetched).
@Suite(.serialized) struct FileTransferTests {
    static let password = "correct horse"

    /// The daemon with `transfers` as its configuration section, an `admin` (FULL_ADMIN) and a `viewer` (no
    /// roles), and a root client on the local socket.
    static func start(_ transfers: String = "{}", jobs: String = "{}") async throws -> (ServedBinary, RPCClient) {
        let served = try await ServedBinary.start(configuration: "{\"transfers\": \(transfers), \"jobs\": \(jobs)}")
        let client = try await RPCClient.connect(to: ConnectionTarget(.unix(path: served.socket)))
        for (name, roles) in [("admin", ["FULL_ADMIN"]), ("viewer", [])] {
            _ = try await client.call("user.create", [["username": .string(name), "password": .string(password), "roles": JSON(strings: roles)]])
        }
        return (served, client)
    }

    static func curl(_ arguments: [String]) async throws -> Binary.Output {
        try await Binary.run(executable: "/usr/bin/curl", ["-s", "-S"] + arguments, timeout: .seconds(300))
    }

    static func randomFile(_ path: String, bytes: Int) throws {
        var generator = SystemRandomNumberGenerator()
        let data = Data((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) })
        #expect(FileManager.default.createFile(atPath: path, contents: data))
    }

    /// The names `filesystem.put` left in `folder` besides those expected: a temporary file would show here.
    static func leftovers(_ folder: String, expected: Set<String>) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).filter { !expected.contains($0) }.sorted()
    }

    static func job(_ client: RPCClient, _ id: Int64) async throws -> JSON {
        try await client.call(MethodName.getJobs, [[["id", "=", .int(id)]], ["get": true]])
    }

    static func finishedJob(_ client: RPCClient, _ id: Int64) async throws -> JSON {
        try await eventuallyValue("job \(id) to end", timeout: .seconds(60)) { () -> JSON? in
            let job = try await job(client, id)
            // (JSON takes a nil literal as null: say which nil.)
            return ["SUCCESS", "FAILED", "ABORTED"].contains(job["state"]?.stringValue ?? "") ? job : Optional<JSON>.none
        }
    }

    /// The last job of `method`.
    static func lastJob(_ client: RPCClient, _ method: String) async throws -> JSON? {
        let jobs = try await client.call(MethodName.getJobs, [[["method", "=", .string(method)]], ["order_by": ["-id"], "limit": 1]])
        return jobs.arrayValue?.first
    }

    @Test func curlUploadsAndDownloadsAsMiddlewaredDocumentsIt() async throws {
        var (served, client) = try await Self.start()
        let folder = served.stateDir + "/files"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Self.randomFile(served.stateDir + "/in.bin", bytes: 3 << 20)
        let upload = try await Self.curl([
            "-u", "admin:\(Self.password)",
            "-F", "data={\"method\": \"filesystem.put\", \"params\": [\"\(folder)/out.bin\"]}",
            "-F", "file=@\(served.stateDir)/in.bin",
            "http://127.0.0.1:\(served.port)/_upload",
        ])
        #expect(upload.status == 0, "\(upload.stderr)")
        let id = try #require(try JSON.parse(upload.stdout)["job_id"]?.intValue, "\(upload.stdout)")
        let uploaded = try await Self.finishedJob(client, id)
        #expect(uploaded["state"] == "SUCCESS", "\(uploaded)")
        #expect(FileManager.default.contents(atPath: folder + "/out.bin") == FileManager.default.contents(atPath: served.stateDir + "/in.bin"))
        #expect(try Self.leftovers(folder, expected: ["out.bin"]) == [])

        // middlewared's clients pass buffered (false) as the fourth argument.
        let answer = try await client.call(MethodName.download, ["filesystem.get", [.string(folder + "/out.bin")], "copy.bin", false])
        let downloadJob = try #require(answer[0]?.intValue)
        let url = try #require(answer[1]?.stringValue)
        #expect(url.hasPrefix("/_download/\(downloadJob)?auth_token="))
        let download = try await Self.curl(["-D", served.stateDir + "/headers.txt", "-o", served.stateDir + "/copy.bin",
                                            "http://127.0.0.1:\(served.port)\(url)"])
        #expect(download.status == 0, "\(download.stderr)")
        #expect(FileManager.default.contents(atPath: served.stateDir + "/copy.bin") == FileManager.default.contents(atPath: served.stateDir + "/in.bin"))
        let headers = try String(contentsOfFile: served.stateDir + "/headers.txt", encoding: .utf8).lowercased()
        #expect(headers.contains("content-type: application/octet-stream"))
        #expect(headers.contains("content-disposition: attachment; filename=\"copy.bin\""))
        #expect(try await Self.finishedJob(client, downloadJob)["state"] == "SUCCESS")
        // Good once.
        let again = try await Self.curl(["-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(served.port)\(url)"])
        #expect(again.stdout == "401")
        await client.close()
        #expect(try await served.stop() == 0)
    }

    /// middlewared's `core.job_download_logs`: a single-use URL of the job's log, for who may see the job (its
    /// owner, FULL_ADMIN) only; a job without a log, and a direct call of the streaming method, are refused.
    @Test func jobLogsDownloadOnceForWhoMaySeeTheJob() async throws {
        let daemon = try await TestDaemon.start()
        let alice = try await daemon.client(as: "alice", roles: [Role.readonlyAdmin])
        let bob = try await daemon.client(as: "bob", roles: [Role.readonlyAdmin])
        let id = try #require(try await alice.call("test.job", [30, 1]).intValue)
        _ = try await alice.call("core.job_wait", [.int(id)])
        let record = try await Self.job(alice, id)
        let logPath = try #require(record["logs_path"]?.stringValue)
        let url = try #require(try await alice.call("core.job_download_logs", [.int(id), "job.log", false]).stringValue)
        let buffered = try await alice.request("core.job_download_logs", [.int(id), "job.log", true])
        #expect(buffered["error"]?["data"]?["error"] == .int(Int64(Errno.ENOTSUP)), "\(buffered)")
        #expect(url.hasPrefix("/_download/"), "\(url)")
        let copy = daemon.stateDir + "/downloaded.log"
        let download = try await Self.curl(["-D", daemon.stateDir + "/headers.txt", "-o", copy, "http://127.0.0.1:\(daemon.port)\(url)"])
        #expect(download.status == 0, "\(download.stderr)")
        let text = try String(contentsOfFile: copy, encoding: .utf8)
        let original = try String(contentsOfFile: logPath, encoding: .utf8)
        #expect(text.split(separator: "\n").count == 30 && text == original)
        #expect(try String(contentsOfFile: daemon.stateDir + "/headers.txt", encoding: .utf8).lowercased()
            .contains("content-disposition: attachment; filename=\"job.log\""))
        let again = try await Self.curl(["-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(daemon.port)\(url)"])
        #expect(again.stdout == "401")
        // Bob may not see Alice's job; the download's own job has no log; the streaming method is no plain call.
        let hidden = try await bob.request("core.job_download_logs", [.int(id), "job.log"])
        #expect(hidden["error"]?["data"]?["error"] == .int(Int64(Errno.ENOENT)), "\(hidden)")
        let streamJob = try #require(try await Self.lastJob(alice, "core.job_log_download")?["id"]?.intValue)
        #expect(try await Self.finishedJob(alice, streamJob)["state"] == "SUCCESS")
        let logless = try await alice.request("core.job_download_logs", [.int(streamJob), "x.log"])
        #expect(logless["error"]?["data"]?["reason"] == .string("Job \(streamJob) has no log"), "\(logless)")
        let direct = try await alice.request("core.job_log_download", [.int(id)])
        #expect(direct["error"]?["data"]?["reason"]?.stringValue?.contains("call core.download") == true, "\(direct)")
        await alice.close()
        await bob.close()
        await daemon.stop()
    }

    /// 1 GiB up and down through the CLI (`call --upload`, `call --download`): the same bytes at both ends, and
    /// the daemon's memory bounded far below what passes through it.
    @Test func aGibibyteEachWayInBoundedMemory() async throws {
        var (served, client) = try await Self.start()
        let source = served.stateDir + "/gib.bin"
        // 1 GiB from a 1 MiB random block, each copy stamped with its index so no two MiB are alike.
        var block = [UInt8](repeating: 0, count: 1 << 20)
        var generator = SystemRandomNumberGenerator()
        for i in block.indices { block[i] = UInt8.random(in: 0...255, using: &generator) }
        #expect(FileManager.default.createFile(atPath: source, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: source))
        for index in 0..<1024 {
            withUnsafeBytes(of: UInt32(index).littleEndian) { stamp in block.replaceSubrange(0..<4, with: stamp) }
            try handle.write(contentsOf: block)
        }
        try handle.close()
        _ = try await client.call("core.ping")
        let before = served.residentMemory
        let sampling = Task { () -> Int in
            var peak = 0
            while !Task.isCancelled {
                peak = max(peak, served.residentMemory)
                try? await Task.sleep(for: .milliseconds(20))
            }
            return peak
        }
        let environment = ["SWITCHBOARD_STATE_DIR": served.stateDir]
        let up = try await Binary.run(["call", "--upload", source, "filesystem.put", served.stateDir + "/gib.out"],
                                      environment: environment, timeout: .seconds(600))
        #expect(up.status == 0, "\(up.stderr)")
        let down = try await Binary.run(["call", "--download", served.stateDir + "/gib.dl", "filesystem.get", served.stateDir + "/gib.out"],
                                        environment: environment, timeout: .seconds(600))
        #expect(down.status == 0, "\(down.stderr)")
        sampling.cancel()
        let peak = max(await sampling.value, served.residentMemory)
        let sums = try await Binary.run(executable: "/usr/bin/sha256sum", [source, served.stateDir + "/gib.out", served.stateDir + "/gib.dl"],
                                        timeout: .seconds(300))
        let digests = Set(sums.stdout.split(separator: "\n").compactMap { $0.split(separator: " ").first })
        #expect(sums.status == 0 && sums.stdout.split(separator: "\n").count == 3 && digests.count == 1, "\(sums.stdout)")
        let growth = peak - before
        print("1 GiB up and down: RSS \(before / 1024) KiB before, peak \(peak / 1024) KiB (+\(growth / 1024) KiB)")
        #expect(growth < 128 << 20, "RSS grew by \(growth / 1024) KiB moving 1 GiB each way")
        for file in ["gib.bin", "gib.out", "gib.dl"] { try? FileManager.default.removeItem(atPath: served.stateDir + "/" + file) }
        await client.close()
        #expect(try await served.stop() == 0)
    }

    /// The start of a raw upload to `filesystem.put` of `target`, cut off inside the file part.
    static func partialUpload(port: Int, target: String, declaring length: Int = 10 << 20) throws -> RawTCP {
        let socket = try RawTCP(port: port)
        let credentials = Data("admin:\(password)".utf8).base64EncodedString()
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n"
            + "{\"method\": \"filesystem.put\", \"params\": [\"\(target)\"]}\r\n"
            + "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n"
            + String(repeating: "x", count: 100_000)
        #expect(socket.send("POST /_upload HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic \(credentials)\r\n"
            + "Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: \(length)\r\n\r\n" + body))
        return socket
    }

    @Test func aStalledUploadFailsItsJobAndLeavesNothing() async throws {
        var (served, client) = try await Self.start("{\"stall-timeout-seconds\": 1}")
        let socket = try Self.partialUpload(port: served.port, target: served.stateDir + "/stalled.bin")
        let job = try await eventuallyValue("the upload's job") { () -> JSON? in try await Self.lastJob(client, "filesystem.put") }
        let id = try #require(job["id"]?.intValue)
        // The daemon gives up on the silent client: it closes the connection, and the job fails saying why.
        let answer = try await Binary.onThread { socket.readUntilClosed(timeout: .seconds(30)) }
        #expect(answer.closed)
        let ended = try await Self.finishedJob(client, id)
        #expect(ended["state"] == "FAILED")
        #expect(ended["error"]?.stringValue?.contains("sent or took nothing for") == true, "\(ended)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: served.stateDir).filter { $0.contains("stalled.bin") } == [])
        await client.close()
        #expect(try await served.stop() == 0)
    }

    @Test func aClientGoneMidUploadFailsItsJobAndLeavesNothing() async throws {
        var (served, client) = try await Self.start()
        let socket = try Self.partialUpload(port: served.port, target: served.stateDir + "/cut.bin")
        let job = try await eventuallyValue("the upload's job") { () -> JSON? in try await Self.lastJob(client, "filesystem.put") }
        let id = try #require(job["id"]?.intValue)
        try await eventually("the job reads the upload") { try await Self.job(client, id)["state"] == "RUNNING" }
        let temporary = try await eventuallyValue("the upload's temporary file") {
            try FileManager.default.contentsOfDirectory(atPath: served.stateDir).first { $0.hasPrefix(".cut.bin.upload-") }
        }
        #expect(!temporary.isEmpty)
        close(socket.fd)
        let ended = try await Self.finishedJob(client, id)
        #expect(ended["state"] == "FAILED")
        #expect(ended["error"]?.stringValue?.contains("closing boundary") == true, "\(ended)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: served.stateDir).filter { $0.contains("cut.bin") } == [])
        await client.close()
        #expect(try await served.stop() == 0)
    }

    @Test func anOversizedUploadIsRefused() async throws {
        var (served, client) = try await Self.start("{\"max-upload-size-mb\": 1}")
        try Self.randomFile(served.stateDir + "/big.bin", bytes: 2 << 20)
        let form = ["-u", "admin:\(Self.password)", "-w", "\n%{http_code}",
                    "-F", "data={\"method\": \"filesystem.put\", \"params\": [\"\(served.stateDir)/big.out\"]}",
                    "-F", "file=@\(served.stateDir)/big.bin", "http://127.0.0.1:\(served.port)/_upload"]
        // Refused by its Content-Length before a byte of it is read: no job starts.
        let declared = try await Self.curl(form)
        #expect(declared.stdout.hasSuffix("\n413"), "\(declared.stdout)")
        let refusal = try JSON.parse(String(declared.stdout.split(separator: "\n").first ?? ""))
        #expect(refusal["errname"] == "E2BIG")
        #expect(refusal["reason"]?.stringValue?.contains("transfers.max-upload-size-mb") == true)
        #expect(try await Self.lastJob(client, "filesystem.put") == nil)
        // Chunked, with no length: refused as the bytes pass the limit; the job that started fails, its file gone.
        let chunked = try await Self.curl(["-H", "Transfer-Encoding: chunked"] + form)
        #expect(chunked.stdout.hasSuffix("\n413"), "\(chunked.stdout)")
        let job = try #require(try await Self.lastJob(client, "filesystem.put"))
        let ended = try await Self.finishedJob(client, try #require(job["id"]?.intValue))
        #expect(ended["state"] == "FAILED")
        #expect(ended["error"]?.stringValue?.contains("larger than") == true, "\(ended)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: served.stateDir).filter { $0.contains("big.out") } == [])
        await client.close()
        #expect(try await served.stop() == 0)
    }

    @Test func badUploadsAreRefusedWithTheirReason() async throws {
        var (served, client) = try await Self.start()
        try Self.randomFile(served.stateDir + "/small.bin", bytes: 1000)
        let url = "http://127.0.0.1:\(served.port)/_upload"
        let file = "file=@\(served.stateDir)/small.bin"
        func post(_ arguments: [String]) async throws -> (status: String, body: JSON) {
            let answer = try await Self.curl(["-w", "\n%{http_code}"] + arguments + [url])
            let lines = answer.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            return (String(lines.last ?? ""), (try? JSON.parse(String(lines.dropLast().joined(separator: "\n")))) ?? .null)
        }
        let put = "data={\"method\": \"filesystem.put\", \"params\": [\"\(served.stateDir)/x.bin\"]}"
        let admin = ["-u", "admin:\(Self.password)"]
        var answer = try await post(["-F", put, "-F", file])
        #expect(answer.status == "401" && answer.body["errname"] == "ENOTAUTHENTICATED", "\(answer)")
        answer = try await post(["-u", "viewer:\(Self.password)", "-F", put, "-F", file])
        #expect(answer.status == "403", "\(answer)")
        answer = try await post(admin + ["-F", "data={\"method\": \"system.info\"}", "-F", file])
        #expect(answer.status == "400" && answer.body["reason"] == "system.info does not accept an upload", "\(answer)")
        answer = try await post(admin + ["-F", file, "-F", put])
        #expect(answer.status == "400" && answer.body["reason"] == "The \"data\" part must come first", "\(answer)")
        answer = try await post(admin + ["-F", "data={not json", "-F", file])
        #expect(answer.status == "400" && answer.body["reason"]?.stringValue?.hasPrefix("The \"data\" part is not JSON") == true, "\(answer)")
        answer = try await post(admin + ["-F", "data={\"params\": []}", "-F", file])
        #expect(answer.status == "422" && answer.body["extra"]?[0]?[0] == "data.method", "\(answer)")
        answer = try await post(admin + ["-F", put])
        #expect(answer.status == "400" && answer.body["reason"] == "No \"file\" part after \"data\"", "\(answer)")
        answer = try await post(admin + ["-F", put, "-F", file, "-F", "other=1"])
        #expect(answer.status == "400" && answer.body["reason"]?.stringValue?.hasPrefix("Unknown part \"other\"") == true, "\(answer)")
        answer = try await post(admin + ["-H", "Content-Type: application/json", "-d", "{}"])
        #expect(answer.status == "400" && answer.body["reason"]?.stringValue?.contains("multipart/form-data") == true, "\(answer)")
        // Two files to a method that takes one: the job says so, and writes nothing.
        answer = try await post(admin + ["-F", put, "-F", file, "-F", file])
        let id = try #require(answer.body["job_id"]?.intValue, "\(answer)")
        let ended = try await Self.finishedJob(client, id)
        #expect(ended["error"] == "filesystem.put takes one file; the upload had more")
        #expect(!FileManager.default.fileExists(atPath: served.stateDir + "/x.bin"))
        // Pipes are checked for plain calls too.
        await #expect { try await client.call("filesystem.get", [.string(served.stateDir + "/small.bin")]) } throws: {
            "\($0)".contains("filesystem.get writes a download: call core.download")
        }
        await #expect { try await client.call(MethodName.download, ["filesystem.put", ["/tmp/x"], "x"]) } throws: {
            "\($0)".contains("filesystem.put reads an upload: send it to POST /_upload")
        }
        // buffered: true (run the job into a temporary file first) is refused, and starts no job.
        let jobsBefore = try await client.call(MethodName.getJobs, [[], ["count": true]])
        await #expect { try await client.call(MethodName.download, ["filesystem.get", [.string(served.stateDir + "/small.bin")], "s.bin", true]) } throws: {
            "\($0)".contains("Buffered downloads are not supported")
        }
        #expect(try await client.call(MethodName.getJobs, [[], ["count": true]]) == jobsBefore)
        await client.close()
        #expect(try await served.stop() == 0)
    }

    @Test func transfersBeyondTheLimitAreRefusedUntilOneEnds() async throws {
        var (served, client) = try await Self.start("{\"max-concurrent\": 1}")
        try Self.randomFile(served.stateDir + "/small.bin", bytes: 1000)
        let socket = try Self.partialUpload(port: served.port, target: served.stateDir + "/held.bin")
        _ = try await eventuallyValue("the first upload's job") { () -> JSON? in try await Self.lastJob(client, "filesystem.put") }
        let form = ["-u", "admin:\(Self.password)", "-w", "\n%{http_code}",
                    "-F", "data={\"method\": \"filesystem.put\", \"params\": [\"\(served.stateDir)/second.bin\"]}",
                    "-F", "file=@\(served.stateDir)/small.bin", "http://127.0.0.1:\(served.port)/_upload"]
        let refused = try await Self.curl(form)
        #expect(refused.stdout.hasSuffix("\n429"), "\(refused.stdout)")
        #expect(refused.stdout.contains("Too many file transfers in progress (1)"))
        close(socket.fd)
        try await eventually("the slot is given back") { try await Self.curl(form).stdout.hasSuffix("\n200") }
        await client.close()
        #expect(try await served.stop() == 0)
    }

    /// An upload cannot wait for its turn: nobody would read it meanwhile, and HTTP's idle timeout would cut its
    /// client off. Behind its lock (two uploads to one path) or with every job slot taken it is refused at once,
    /// with no job left behind, and accepted once the way is clear.
    @Test func anUploadThatWouldWaitIsRefusedAtOnce() async throws {
        var (served, client) = try await Self.start(jobs: "{\"max-running\": 2}")
        try Self.randomFile(served.stateDir + "/small.bin", bytes: 1000)
        func upload(_ target: String) async throws -> String {
            try await Self.curl(["-u", "admin:\(Self.password)", "-w", "\n%{http_code}",
                                 "-F", "data={\"method\": \"filesystem.put\", \"params\": [\"\(served.stateDir)/\(target)\"]}",
                                 "-F", "file=@\(served.stateDir)/small.bin", "http://127.0.0.1:\(served.port)/_upload"]).stdout
        }
        func running(_ count: Int) async throws {
            try await eventually("\(count) uploads running") {
                try await client.call(MethodName.getJobs, [[["method", "=", "filesystem.put"], ["state", "=", "RUNNING"]], ["count": true]]) == .int(Int64(count))
            }
        }
        let first = try Self.partialUpload(port: served.port, target: served.stateDir + "/held.bin")
        try await running(1)
        let locked = try await upload("held.bin")
        #expect(locked.hasSuffix("\n429") && locked.contains("holds or awaits this job's lock (filesystem.put:\(served.stateDir)/held.bin)"), "\(locked)")
        #expect(locked.contains("an upload cannot wait for it"), "\(locked)")
        let second = try Self.partialUpload(port: served.port, target: served.stateDir + "/other.bin")
        try await running(2)
        let full = try await upload("third.bin")
        #expect(full.hasSuffix("\n429") && full.contains("All 2 job slots are taken; an upload cannot wait for one"), "\(full)")
        // The refusals left no job: only the two partial uploads are there.
        #expect(try await client.call(MethodName.getJobs, [[["method", "=", "filesystem.put"]], ["count": true]]) == 2)
        close(first.fd)
        var accepted = ""
        try await eventually("the lock and a slot are free again") {
            accepted = try await upload("held.bin")
            return accepted.hasSuffix("\n200")
        }
        // The answer comes once the last byte is handed over; the file is in place when the job has ended.
        let id = try #require(try JSON.parse(String(accepted.split(separator: "\n")[0]))["job_id"]?.intValue, "\(accepted)")
        #expect(try await Self.finishedJob(client, id)["state"] == "SUCCESS")
        #expect(FileManager.default.contents(atPath: served.stateDir + "/held.bin") == FileManager.default.contents(atPath: served.stateDir + "/small.bin"))
        close(second.fd)
        await client.close()
        #expect(try await served.stop() == 0)
    }

    @Test func aDownloadNobodyFetchesFailsItsJob() async throws {
        var (served, client) = try await Self.start("{\"download-expiry-seconds\": 1, \"max-pending-downloads\": 1}")
        try Self.randomFile(served.stateDir + "/small.bin", bytes: 3 << 20)
        let answer = try await client.call(MethodName.download, ["filesystem.get", [.string(served.stateDir + "/small.bin")], "s.bin"])
        // One URL waits to be fetched: a second is refused, and its job does not stay behind waiting.
        await #expect { try await client.call(MethodName.download, ["filesystem.get", [.string(served.stateDir + "/small.bin")], "t.bin"]) } throws: {
            "\($0)".contains("Too many downloads waiting to be fetched (1)")
        }
        let refusedJob = try #require(try await Self.lastJob(client, "filesystem.get")?["id"]?.intValue)
        #expect(refusedJob != answer[0]?.intValue)
        #expect(try await Self.finishedJob(client, refusedJob)["state"] == "FAILED")
        let id = try #require(answer[0]?.intValue)
        let ended = try await Self.finishedJob(client, id)
        #expect(ended["state"] == "FAILED", "\(ended) \(answer)")
        #expect(ended["error"]?.stringValue?.contains("Nobody fetched the download within") == true, "\(ended)")
        let late = try await Self.curl(["-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(served.port)\(answer[1]?.stringValue ?? "")"])
        #expect(late.stdout == "401")
        await client.close()
        #expect(try await served.stop() == 0)
    }

    @Test func aDownloadWhoseJobFailsIsBrokenOffNotTruncated() async throws {
        var (served, client) = try await Self.start()
        let answer = try await client.call(MethodName.download, ["filesystem.get", [.string(served.stateDir + "/missing.bin")], "m.bin"])
        let download = try await Self.curl(["-o", served.stateDir + "/m.bin", "http://127.0.0.1:\(served.port)\(answer[1]?.stringValue ?? "")"])
        // curl: 18 (partial file) or 56 (receive failure): never 0, a whole-looking empty file.
        #expect(download.status != 0, "\(download)")
        let ended = try await Self.finishedJob(client, try #require(answer[0]?.intValue))
        #expect(ended["error"]?.stringValue?.contains("No such file or directory") == true, "\(ended)")
        // The CLI says so too, exits 1 and leaves no file.
        let cli = try await Binary.run(["call", "--download", served.stateDir + "/cli.bin", "filesystem.get", served.stateDir + "/missing.bin"],
                                       environment: ["SWITCHBOARD_STATE_DIR": served.stateDir])
        #expect(cli.status == 1, "\(cli)")
        #expect(!FileManager.default.fileExists(atPath: served.stateDir + "/cli.bin"))
        #expect(!FileManager.default.fileExists(atPath: served.stateDir + "/cli.bin.part"))
        await client.close()
        #expect(try await served.stop() == 0)
    }
}
