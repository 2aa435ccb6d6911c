import PostgresNIO
import SwitchboardCore

/// The daemon's sequences (job and audit ids) as rows of `switchboard_sequences`: a node reserves a block by
/// moving the row's `last` on, under the row's lock, so no two nodes are given the same id.
extension PostgresDatastore {
    public func reserveIDs(_ sequence: String, count: Int64, above floor: Int64) async throws -> ClosedRange<Int64> {
        let count = max(1, count)
        // The floor is the node's own highest id: a table filled before the sequence row existed (an upgrade)
        // moves the sequence past its rows.
        let rows = try await rows("""
            INSERT INTO switchboard_sequences (name, last) VALUES (?, ? + ?)
            ON CONFLICT (name) DO UPDATE SET last = GREATEST(switchboard_sequences.last, EXCLUDED.last - ?) + ?
            RETURNING last
            """, [.text(sequence), .integer(floor), .integer(count), .integer(count), .integer(count)])
        guard let last = try rows.first?.decode(Int64.self) else {
            throw CallError(Errno.EIO, "The datastore did not reserve ids of \(sequence)")
        }
        return (last - count + 1)...last
    }
}
