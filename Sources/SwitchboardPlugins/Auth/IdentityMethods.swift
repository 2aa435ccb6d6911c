import SwitchboardCore

/// `auth.generate_token`, `auth.me` and `auth.logout`: the session's own identity.
enum IdentityMethods {
    static func register(in context: PluginContext, tokens: TokenStore) throws {
        let datastore = context.datastore
        try context.register(MethodDescriptor(
            MethodName.generateToken,
            description: "A token that logs a session in as the caller: valid ttl seconds, optionally once only and only from this client.",
            params: [
                Parameter("ttl", schema: ["type": ["integer", "null"], "minimum": 1, "maximum": 2_592_000], default: 600),
                Parameter("attrs", schema: ["type": "object"], default: [:]),
                Parameter("match_origin", schema: ["type": "boolean"], default: true),
                Parameter("single_use", schema: ["type": "boolean"], default: false),
            ],
            returns: ["type": "string"], roles: [Role.authenticated]
        ) { ctx, args in
            guard let credentials = ctx.credentials else { throw CallError.notAuthenticated }
            let ttl = args[0].intValue ?? 600
            let token = TokenStore.Token(
                credentials: credentials, expires: .now + .seconds(ttl), singleUse: args[3].boolValue ?? false,
                origin: (args[2].boolValue ?? true) ? ctx.session.origin : nil, attributes: args[1])
            return .string(tokens.issue(token))
        })

        try context.register(MethodDescriptor(
            MethodName.me, description: "The authenticated user of this session.",
            returns: ["type": "object"], roles: [Role.authenticated], flags: .readonly
        ) { ctx, _ in
            guard let credentials = ctx.credentials else { throw CallError.notAuthenticated }
            var info = IdentityMethods.userInfo(credentials).objectValue ?? [:]
            if let id = credentials.userID, credentials.mechanism != .unixSocket,
               let row = try await datastore.get(UserTable.definition, id: id)
            {
                info["pw_gecos"] = row["full_name"] ?? ""
            }
            return .object(info)
        })

        try context.register(MethodDescriptor(
            MethodName.logout, description: "Ends the session's authentication.", returns: ["type": "boolean"],
            roles: [Role.authenticated]
        ) { ctx, _ in
            ctx.session.credentials = nil
            return true
        })
    }

    static func userInfo(_ credentials: Credentials) -> JSON {
        [
            "pw_name": .string(credentials.username),
            "pw_uid": credentials.userID.map { .int($0) } ?? .null,
            "pw_gecos": "",
            "privilege": ["roles": JSON(strings: credentials.roles.sorted())],
            // No password was given by a local-socket peer or a connection a session manager vouched for.
            "account_attributes": [.unixSocket, .sessionManager].contains(credentials.mechanism) ? ["LOCAL"] : ["LOCAL", "PASSWORD_LOGIN"],
            "mechanism": .string(credentials.mechanism.rawValue),
        ]
    }
}
