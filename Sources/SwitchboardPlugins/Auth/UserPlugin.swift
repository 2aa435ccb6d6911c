import Foundation
import SwitchboardCore

/// `user.*`: local accounts with bcrypt password hashes; hashes are never returned or filterable.
///
/// Configuration (`plugins.user`): `bcrypt_cost` (4...31, default 10).
public struct UserPlugin: Plugin {
    public let name = "user"
    public let dependencies = ["core"]

    public init() {}

    public var configurationSchema: JSON {
        ["type": "object", "properties": ["bcrypt_cost": ["type": "integer", "minimum": 4, "maximum": 31]], "additionalProperties": false]
    }

    static let usernamePattern = "^[A-Za-z_][A-Za-z0-9_.-]*$"

    public func setUp(_ context: PluginContext) async throws {
        let cost = context.configuration["bcrypt_cost"]?.intValue ?? 10
        guard (4...31).contains(cost) else {
            throw CallError(Errno.EINVAL, "plugins.user.bcrypt_cost must be between 4 and 31, not \(cost)")
        }
        let roleSchema: JSON = ["type": "array", "items": ["type": "string", "pattern": "^[A-Z][A-Z0-9_]*$"], "uniqueItems": true]
        let properties: JSONObject = [
            "username": ["type": "string", "minLength": 1, "maxLength": 32, "pattern": .string(Self.usernamePattern)],
            "full_name": ["type": "string", "maxLength": 256],
            "email": ["type": ["string", "null"], "maxLength": 256],
            "password": ["type": "string", "minLength": 1, "maxLength": 1024],
            "roles": roleSchema,
            "locked": ["type": "boolean"],
        ]
        var entryProperties = properties
        entryProperties.removeValue(forKey: "password")
        entryProperties["id"] = ["type": "integer"]
        entryProperties["created"] = ["type": ["object", "null"], "properties": ["$date": ["type": "integer"]]]
        entryProperties["password_set"] = ["type": "boolean"]
        entryProperties["twofactor_auth_configured"] = ["type": "boolean"]

        var service = CRUDService(
            namespace: "user", description: "Local user accounts.", table: UserTable.definition,
            entry: ["type": "object", "properties": .object(entryProperties)],
            create: ["type": "object", "properties": .object(properties), "required": ["username"], "additionalProperties": false])
        service.hiddenColumns = UserTable.hiddenColumns
        service.extend = { row in
            var row = row
            row["password_set"] = .bool(row["password_hash"]?.stringValue?.isEmpty == false)
            row["twofactor_auth_configured"] = .bool(row["twofactor_secret"]?.stringValue?.isEmpty == false)
            row["created"] = Self.createdDate(row["created"])
            return row
        }
        service.prepareCreate = { ctx, data in
            try Self.checkKnown(data["roles"], known: context.knownRoles, attribute: "user_create.roles")
            try Self.checkGrant(ctx, roles: data["roles"], attribute: "user_create.roles")
            var row = data
            row.removeValue(forKey: "password")
            if case .string(let password) = data["password"] {
                row["password_hash"] = .string(await PasswordHasher.hash(password, cost: UInt8(cost)))
            }
            row["roles"] = data["roles"] ?? []
            row["created"] = .int(Session.wallClockMillis)
            return row
        }
        // Changing or deleting an account that holds a role the caller lacks would hand over that role.
        service.authorizeRow = { ctx, row in try Self.checkGrant(ctx, roles: row["roles"], attribute: "id") }
        service.prepareUpdate = { ctx, old, changes in
            try Self.checkKnown(changes["roles"], known: context.knownRoles, attribute: "user_update.roles")
            try Self.checkGrant(ctx, roles: changes["roles"], attribute: "user_update.roles")
            var row = changes
            row.removeValue(forKey: "password")
            if case .string(let password) = changes["password"] {
                row["password_hash"] = .string(await PasswordHasher.hash(password, cost: UInt8(cost)))
            }
            return row
        }
        service.beforeDelete = { ctx, row in
            if let me = ctx.credentials?.userID, me == row["id"]?.intValue, ctx.credentials?.mechanism != .internal {
                throw CallError(Errno.EPERM, "You cannot delete the account you are logged in with")
            }
        }
        try await service.register(in: context)
    }

    /// `created` as every other date of the API: `{"$date": <epoch ms>}`. Stored in milliseconds; accounts
    /// created before that were stored in seconds, which no millisecond date since 1973 is below.
    static func createdDate(_ stored: JSON?) -> JSON {
        guard let value = stored?.intValue else { return .null }
        return ["$date": .int(value < 100_000_000_000 ? value * 1000 : value)]
    }

    /// Refuses a role no method or event type admits (a typo would otherwise be stored and grant nothing), naming
    /// each by its place in the list.
    static func checkKnown(_ roles: JSON?, known: Set<String>, attribute: String) throws {
        let issues = (roles?.arrayValue ?? []).enumerated().compactMap { index, role -> ValidationIssue? in
            guard let name = role.stringValue, !known.contains(name) else { return nil }
            let near = known.filter { $0.hasPrefix(String(name.prefix(3))) }.sorted()
            let hint = near.isEmpty ? "see core.get_roles" : "did you mean \(near.joined(separator: ", "))?"
            return ValidationIssue(attribute: "\(attribute).\(index)", message: "Unknown role '\(name)' (\(hint))")
        }
        if !issues.isEmpty { throw CallError.validation(issues) }
    }

    /// USER_WRITE lets a delegate manage accounts, not escalate: without FULL_ADMIN, a caller may neither grant
    /// a role it does not hold nor change or delete an account that holds one (resetting an administrator's
    /// password would hand over the administrator's rights).
    static func checkGrant(_ ctx: CallContext, roles: JSON?, attribute: String) throws {
        guard let credentials = ctx.credentials, !credentials.isFullAdmin else { return }
        let wanted = (roles?.arrayValue ?? []).compactMap(\.stringValue)
        let missing = wanted.filter { !credentials.roles.contains($0) }
        guard missing.isEmpty else {
            throw CallError(Errno.EACCES, "Only FULL_ADMIN may grant or manage roles it does not hold: \(missing.sorted().joined(separator: ", ")) (\(attribute))")
        }
    }
}
