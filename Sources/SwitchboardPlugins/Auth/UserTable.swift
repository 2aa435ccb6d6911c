import SwitchboardCore

/// The `users` table and the look-ups the auth plugin makes in it.
enum UserTable {
    static let definition = TableDefinition("users", columns: [
        .init("username", .text, unique: true, nullable: false),
        .init("full_name", .text, default: ""),
        .init("email", .text),
        .init("password_hash", .text),
        .init("roles", .json, default: []),
        .init("locked", .boolean, default: false),
        .init("created", .integer),
    ])

    static func find(_ datastore: any Datastore, username: String) async throws -> JSONObject? {
        let rows = try await datastore.query(
            definition, filters: [.equal("username", .string(username))],
            options: QueryOptions())
        return rows[0]?.objectValue
    }

    static func credentials(_ row: JSONObject, mechanism: Credentials.Mechanism) -> Credentials {
        Credentials(
            username: row["username"]?.stringValue ?? "",
            userID: row["id"]?.intValue,
            roles: Set((row["roles"]?.arrayValue ?? []).compactMap(\.stringValue)),
            mechanism: mechanism)
    }
}
