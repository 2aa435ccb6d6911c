import SwitchboardCore

/// A change of a relay batch that the server refused: the batch's transaction is rolled back and run again
/// without it (`PostgresEventRelay.store`), and its caller gets `error`.
struct ChangeRefused: Error {
    /// Its place in the batch.
    let index: Int
    let error: CallError
}
