import SwitchboardCore

/// A download's slot and pipe, given back when its response is done with, sent or not: a response whose body
/// never runs (the client left before its head was written) must not keep the slot or leave the job waiting.
final class DownloadLease: Sendable {
    let transfers: Transfers
    let pipe: JobPipe

    init(transfers: Transfers, pipe: JobPipe) {
        self.transfers = transfers
        self.pipe = pipe
    }

    deinit {
        // After a whole download this changes nothing: the job has finished writing.
        pipe.close("The client went away before the download was sent")
        transfers.release()
    }
}
