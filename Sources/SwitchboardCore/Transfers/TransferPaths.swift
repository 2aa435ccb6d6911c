/// Where the HTTP listeners serve file transfers; one table for the routes, `core.download`'s URLs and the CLI.
public enum TransferPaths {
    /// `POST`: a multipart upload into a job (middlewared's `/_upload`).
    public static let upload = "/_upload"
    /// `GET <download>/<job id>?auth_token=<ticket>`: a job's output (middlewared's `/_download`).
    public static let download = "/_download"
}
