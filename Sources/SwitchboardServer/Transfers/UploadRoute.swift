import Hummingbird
import NIOCore
import SwitchboardCore
import SwitchboardWire

/// `POST /_upload`, middlewared's file upload: a `multipart/form-data` body whose first part, `data`, names
/// `{"method", "params"}` and whose next parts, `file` (at most `JobInput.maxFiles`), are streamed into the job
/// that method starts, without a temporary file. Answers `{"job_id": N}` once the last byte is handed over.
///
/// The login is REST's (`Authorization: Basic` or `Bearer`), or middlewared's `?auth_token=`, or the local
/// socket's trust; the call then runs through the whole pipeline with the caller's rights. Bounds: the
/// configured upload size (413, by `Content-Length` before anything is read, or as the bytes arrive), the
/// number of transfers at once (429), and the stall timeout. A client that stalls or goes away fails the job,
/// whose body then removes what it wrote.
struct UploadRoute: Sendable {
    static let path = TransferPaths.upload

    let exchange: RESTExchange
    var runtime: Runtime { exchange.runtime }
    var limits: TransferLimits { runtime.transfers.limits }

    func handle(_ request: Request, context: SwitchboardRequestContext) async -> Response {
        do {
            try runtime.transfers.acquire()
        } catch {
            return RESTExchange.failure(error)
        }
        defer { runtime.transfers.release() }
        guard let parts = UploadParts(contentType: request.headers[.contentType]) else {
            return RESTExchange.failure(CallError(Errno.EINVAL, "The body must be multipart/form-data with a boundary: a \"data\" part, then \"file\" parts"))
        }
        if let length = request.headers[.contentLength].flatMap({ Int64($0) }), length > limits.maxUploadSize {
            return RESTExchange.failure(tooLarge)
        }
        let session: Session
        do throws(CallError) {
            session = try await exchange.session(for: request, context: context)
            if request.headers[.authorization] == nil, let token = request.uri.queryParameters["auth_token"] {
                try await EnvelopeRequests.loginWithBearer(String(token), runtime: runtime, session: session)
            }
            guard session.isAuthenticated else {
                throw CallError(Errno.ENOTAUTHENTICATED, "Log in with Authorization (Basic or Bearer) or ?auth_token= to upload",
                                kind: .notAuthenticated)
            }
        } catch {
            return RESTExchange.failure(error)
        }
        let upload = Upload(route: self, session: session)
        let watch = TransferWatch(timeout: limits.stallTimeout)
        let channel = context.channel
        return await withTaskGroup(of: Void.self, returning: Response.self) { group in
            group.addTask { await watch.watch { channel?.close(promise: nil) } }
            let response = await receive(request.body, parts: parts, upload: upload, watch: watch)
            group.cancelAll()
            return response
        }
    }

    var tooLarge: CallError {
        CallError(Errno.E2BIG, "Upload larger than \(limits.maxUploadSize) bytes (transfers.max-upload-size-mb)")
    }

    /// Reads the body to its end, handing each part to `upload`.
    private func receive(_ body: RequestBody, parts: UploadParts, upload: Upload, watch: TransferWatch) async -> Response {
        var received: Int64 = 0
        var iterator = body.makeAsyncIterator()
        do {
            while true {
                watch.waiting()
                let next: ByteBuffer?
                do {
                    next = try await iterator.next()
                } catch {
                    next = nil
                }
                watch.answered()
                guard let buffer = next else { break }
                received += Int64(buffer.readableBytes)
                guard received <= limits.maxUploadSize else { throw tooLarge }
                for event in try parts.feed(buffer) {
                    try await upload.handle(event)
                }
            }
            if watch.stalled { throw watch.stallError }
            guard parts.isComplete else {
                throw CallError(Errno.EPIPE, "The upload ended before its closing boundary: the client disconnected or sent a truncated body")
            }
            let job = try upload.finish()
            return RESTExchange.json(["job_id": .int(job)])
        } catch {
            let failure = error as? CallError ?? CallError(Errno.EIO, String(describing: error))
            // The job (if one started) learns why its upload broke; a job that stopped reading keeps its own ending.
            upload.fail(failure)
            if failure.errno == Errno.EPIPE, let job = upload.job, upload.jobStoppedReading {
                return RESTExchange.json(["job_id": .int(job)], headers: [.connection: "close"])
            }
            return RESTExchange.failure(failure, closing: true)
        }
    }
}
