import SwitchboardCore

/// `auth.*`: logging a session in and out with passwords and tokens, with middlewared's signatures.
public struct AuthPlugin: Plugin {
    public let name = "auth"
    public let dependencies = ["core", "user", "api_key"]
    public let needs: PluginNeeds = [.sessions, .loginGuard]

    public init() {}

    public func setUp(_ context: PluginContext) async throws {
        let datastore = context.datastore
        // The tables of the user and api_key plugins, declared here too: logins read them.
        try await datastore.prepare(UserTable.definition)
        try await datastore.prepare(APIKeys.definition)
        context.register(ServiceDescriptor(name: "auth", description: "Authentication of sessions."))

        let tokens = TokenStore()
        try SessionMethods.register(in: context)
        let clientGuard = try context.loginGuard()
        try LockoutMethods.register(in: context, guard: clientGuard)
        // The second factor's tables and key are read here directly, not through the twofactor plugin: logins
        // keep asking for codes the settings require even while that plugin is disabled or reloading.
        let checks = LoginChecks(datastore: datastore, tokens: tokens, clientGuard: clientGuard,
                                 twoFactor: try await TwoFactorPlugin.prepare(context), pending: PendingSecondFactors())
        try LoginMethods.register(in: context, checks: checks)
        try IdentityMethods.register(in: context, tokens: tokens)
    }
}
