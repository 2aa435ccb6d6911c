/// The dialects' names as sessions carry them (`Session.dialect`): what `control.status` counts connections by,
/// and the `dialect` label of the metrics, which lists all four even before a client of each has come.
enum DialectName {
    static let jsonRPC = "jsonrpc"
    static let ddp = "ddp"
    static let envelope = "envelope"
    static let rest = "rest"

    static let all = [jsonRPC, ddp, envelope, rest]
}
