import SwitchboardCore

/// `auth.lockout.query` and `auth.lockout.clear`: the addresses and accounts failed logins are held against, and
/// lifting a lockout without a restart. Clearing is FULL_ADMIN and audited like every call that changes something; over the
/// local socket, which is never locked out, it is the way back in for an administrator who locked themselves out.
enum LockoutMethods {
    static func register(in context: PluginContext, guard clientGuard: ClientGuard) throws {
        context.register(ServiceDescriptor(name: "auth.lockout", description: "Failed logins and lockouts by client address and by account."))

        try context.register(MethodDescriptor(
            "auth.lockout.query",
            description: "Addresses and accounts with failed logins in the window, with the query language: address (null for an "
                + "account), username (null for an address), failures, locked, locked_seconds (time left; null when not locked out).",
            params: QueryArguments.parameters, returns: true, roles: [Role.fullAdmin], flags: .readonly
        ) { _, args in
            let (filters, options) = try QueryArguments.parse(args)
            let rows = clientGuard.lockouts.map(Self.row)
            return try QueryEngine.run(rows, filters: filters, options: options)
        })

        try context.register(MethodDescriptor(
            "auth.lockout.clear",
            description: "Lifts the lockout of a client address (and forgets its failed logins and unauthenticated calls) or of an "
                + "account (its failed logins); returns false when nothing was held against it.",
            params: [Parameter("address", schema: ["type": "string", "minLength": 1, "maxLength": 64,
                                                   "description": "A client address, or a username."])],
            returns: ["type": "boolean"], roles: [Role.fullAdmin]
        ) { ctx, args in
            let address = args[0].stringValue ?? ""
            let cleared = clientGuard.clearLockout(address)
            if cleared {
                ctx.logger.notice("lockout cleared", metadata: ["address": .string(address), "by": .string(ctx.credentials?.username ?? "")])
            }
            return .bool(cleared)
        })
    }

    static func row(_ lockout: ClientGuard.Lockout) -> JSON {
        var row = JSONObject()
        row["address"] = lockout.address.map(JSON.string) ?? .null
        row["username"] = lockout.username.map(JSON.string) ?? .null
        row["failures"] = .int(Int64(lockout.failures))
        row["locked"] = .bool(lockout.lockedSeconds != nil)
        row["locked_seconds"] = lockout.lockedSeconds.map(JSON.int) ?? .null
        return .object(row)
    }
}
