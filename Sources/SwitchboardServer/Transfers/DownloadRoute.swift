import Hummingbird
import NIOCore
import SwitchboardCore

/// `GET /_download/<job id>?auth_token=<ticket>`: streams what a job started by `core.download` writes, as
/// middlewared serves it (`application/octet-stream`, `Content-Disposition: attachment`, chunked). The ticket is
/// the only credential, good once. The job writes as fast as the client reads; a client that stalls past the
/// stall timeout, or goes away, closes the job's pipe, and its next write fails. A job that fails mid-way
/// breaks the response (no last chunk), so the client never takes a truncated file for a whole one.
struct DownloadRoute: Sendable {
    static let path = TransferPaths.download

    let runtime: Runtime

    func handle(_ request: Request, context: SwitchboardRequestContext) async -> Response {
        guard let job = context.parameters.get("id").flatMap({ Int64($0) }) else {
            return RESTExchange.failure(CallError(Errno.ENOENT, "No such download"))
        }
        let transfers = runtime.transfers
        do {
            try transfers.acquire()
        } catch {
            return RESTExchange.failure(error)
        }
        guard let token = request.uri.queryParameters["auth_token"], let (pipe, filename) = transfers.claim(job: job, token: String(token)) else {
            transfers.release()
            return RESTExchange.failure(CallError(Errno.ENOTAUTHENTICATED, "Invalid, used or expired download token", kind: .notAuthenticated))
        }
        let watch = TransferWatch(timeout: transfers.limits.stallTimeout)
        let channel = context.channel
        let headers: HTTPFields = [
            .contentType: "application/octet-stream",
            .contentDisposition: "attachment; filename=\"\(filename)\"",
        ]
        let lease = DownloadLease(transfers: transfers, pipe: pipe)
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            defer { withExtendedLifetime(lease) {} }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await watch.watch { channel?.close(promise: nil) } }
                defer { group.cancelAll() }
                while let chunk = try await pipe.read() {
                    watch.waiting()
                    do {
                        try await writer.write(ByteBuffer(bytes: chunk))
                    } catch {
                        pipe.close(watch.stalled ? watch.stallError.reason : "The client went away mid-download")
                        throw error
                    }
                    watch.answered()
                }
                try await writer.finish(nil)
            }
        })
    }
}
