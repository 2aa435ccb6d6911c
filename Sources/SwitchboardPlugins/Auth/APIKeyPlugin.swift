import SwitchboardCore

/// `api_key.*`: keys that log a client in as their owner user, for scripts and other daemons.
///
/// `create` and an `update` with `reset` answer the key in full (`<id>-<secret>`) once; only its SHA-256 is
/// stored. Creating or resetting a key for another user needs FULL_ADMIN or API_KEY_WRITE, and without
/// FULL_ADMIN only for a user whose roles the caller holds itself (a key acts with its owner's rights).
public struct APIKeyPlugin: Plugin {
    public let name = "api_key"
    public let dependencies = ["core", "user"]

    public init() {}

    public func setUp(_ context: PluginContext) async throws {
        let datastore = context.datastore
        // The user plugin's table, declared here too: a key's owner must exist and keeps its roles.
        try await datastore.prepare(UserTable.definition)
        let date: JSON = [
            "type": ["object", "null"], "properties": ["$date": ["type": "integer"]], "required": ["$date"],
            "additionalProperties": false,
        ]
        let entry: JSON = [
            "type": "object",
            "properties": [
                "id": ["type": "integer"], "name": ["type": "string"], "username": ["type": "string"],
                "created_at": date, "expires_at": date, "last_used_at": date, "revoked": ["type": "boolean"],
                "revoked_reason": ["type": ["string", "null"]],
                "key": ["type": "string", "description": "The whole key; only in the answer of create and of update with reset."],
            ],
        ]
        let create: JSON = [
            "type": "object",
            "properties": [
                "name": ["type": "string", "minLength": 1, "maxLength": 200],
                "username": ["type": "string", "minLength": 1, "maxLength": 32],
                "expires_at": date,
            ],
            "required": ["name", "username"], "additionalProperties": false,
        ]
        let update: JSON = [
            "type": "object",
            "properties": [
                "name": ["type": "string", "minLength": 1, "maxLength": 200],
                "expires_at": date,
                "reset": ["type": "boolean", "description": "Replace the secret; the answer carries the new key once."],
                "revoked": ["type": "boolean", "description": "Revoke (true) or reinstate (false) the key."],
            ],
            "additionalProperties": false,
        ]
        var service = CRUDService(namespace: "api_key", description: "API keys: log in as their user without a password.",
                                  table: APIKeys.definition, entry: entry, create: create, update: update)
        service.hiddenColumns = APIKeys.hiddenColumns
        service.extend = APIKeys.extend
        service.prepareCreate = { ctx, data in
            let username = data["username"]?.stringValue ?? ""
            try await Self.checkOwner(ctx, username: username, datastore: datastore, attribute: "api_key_create.username")
            return [
                "name": data["name"] ?? "", "username": .string(username),
                // No secret yet: the key's text needs its id, so completeCreate sets it. A row left without
                // one (a crash in between) matches no key.
                "keyhash": "", "created_ms": .int(Session.wallClockMillis), "expires_ms": APIKeys.millis(data["expires_at"]),
                "revoked": false,
            ]
        }
        service.completeCreate = { _, id, _, row in
            try await Self.withNewSecret(id: id, row: row, datastore: datastore)
        }
        // Revoking, resetting or deleting a key: the same rule as minting one for its owner.
        service.authorizeRow = { ctx, row in
            try await Self.checkExistingOwner(ctx, username: row["username"]?.stringValue ?? "", datastore: datastore)
        }
        service.prepareUpdate = { ctx, old, changes in
            var row: JSONObject = [:]
            if let name = changes["name"] { row["name"] = name }
            if let expires = changes["expires_at"] { row["expires_ms"] = APIKeys.millis(expires) }
            if let revoked = changes["revoked"]?.boolValue {
                row["revoked"] = .bool(revoked)
                row["revoked_reason"] = revoked ? .string("Revoked by \(ctx.credentials?.username ?? "unknown")") : .null
            }
            return row
        }
        service.completeUpdate = { _, id, request, row in
            guard request["reset"]?.boolValue == true else { return row }
            return try await Self.withNewSecret(id: id, row: row, datastore: datastore)
        }
        try await service.register(in: context)

        try context.register(MethodDescriptor(
            "api_key.my_keys", description: "The API keys of the logged-in user.",
            returns: ["type": "array", "items": entry], roles: [Role.authenticated], flags: .readonly
        ) { ctx, _ in
            guard let username = ctx.credentials?.username else { throw CallError.notAuthenticated }
            let rows = try await datastore.query(APIKeys.definition, filters: [.equal("username", .string(username))], options: QueryOptions())
            return .array((rows.arrayValue ?? []).map { row in
                var visible = APIKeys.extend(row.objectValue ?? [:])
                for column in APIKeys.hiddenColumns { visible.removeValue(forKey: column) }
                return .object(visible)
            })
        })
    }

    /// Stores a fresh secret's hash for key `id` and answers the row with the whole key, shown this once.
    static func withNewSecret(id: Int64, row: JSON, datastore: any Datastore) async throws -> JSON {
        let (secret, hash) = APIKeys.makeSecret()
        guard try await datastore.update(APIKeys.definition, id: id, ["keyhash": .string(hash)]) else {
            throw CallError(Errno.ENOENT, "api_key entry with id \(id) does not exist")
        }
        var answer = row.objectValue ?? [:]
        answer["key"] = .string("\(id)-\(secret)")
        return .object(answer)
    }

    /// For a key that exists: without FULL_ADMIN, the caller must hold every role of its owner. A key whose
    /// owner is gone logs nobody in, so anyone with API_KEY_WRITE may clear it away.
    static func checkExistingOwner(_ ctx: CallContext, username: String, datastore: any Datastore) async throws {
        guard let owner = try await UserTable.find(datastore, username: username) else { return }
        try UserPlugin.checkGrant(ctx, roles: owner["roles"], attribute: "id")
    }

    /// The owner must exist; without FULL_ADMIN, the caller must hold every role of the owner.
    static func checkOwner(_ ctx: CallContext, username: String, datastore: any Datastore, attribute: String) async throws {
        guard let owner = try await UserTable.find(datastore, username: username) else {
            throw CallError.validation(attribute, "User \(username) does not exist", errno: Errno.ENOENT)
        }
        try UserPlugin.checkGrant(ctx, roles: owner["roles"], attribute: attribute)
    }
}
